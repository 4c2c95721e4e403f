"""One download as an HTTP response, for the web pages and the API alike (always logged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from analytics.exports import layouts, snapshots, writers
from analytics.exports import variables as var
from analytics.exports.services import export_build, export_log_finish, export_log_record
from analytics.models import ExportLog


def filename(layout: str, fmt: str, items: bool) -> str:
    """Return the file name of a download: layout, items or not, and today's date."""
    suffix = "_items" if items else ""
    return f"ketamine_{layout}{suffix}_{timezone.localdate().isoformat()}.{fmt}"


def _logged_stream(pieces: Iterator[str], log: ExportLog, counter: list[int]) -> Iterator[str]:
    yield from pieces
    export_log_finish(log=log, rows=counter[0])


def download_response(
    *, user: Any, layout: str, fmt: str, items: bool, source: str
) -> HttpResponse:
    """Send one layout in one format, from a recent snapshot or built for this request.

    With snapshots off, CSV is streamed chunk by chunk as it is read from the database.
    """
    name = filename(layout, fmt, items)
    response: HttpResponse
    if fmt == "csv" and snapshots.max_age() == 0:
        log = export_log_record(
            by=user, source=source, layout=layout, fmt=fmt, items=items, filename=name
        )
        counter = [0]
        frames = writers.counting(layouts.frames(layout, items=items), counter)
        pieces = writers.csv_chunks(frames, var.variables_of(layout, items=items))
        response = StreamingHttpResponse(
            _logged_stream(pieces, log, counter), content_type=writers.CONTENT_TYPES["csv"]
        )
        response["X-Data-As-Of"] = timezone.now().isoformat(timespec="seconds")
    else:
        built = snapshots.snapshot(
            layout=layout,
            fmt=fmt,
            items=items,
            build=lambda path: export_build(layout=layout, fmt=fmt, path=path, items=items),
        )
        opened = built.path.open("rb")
        if not built.kept:
            # The open file stays readable after its name is gone.
            built.path.unlink(missing_ok=True)
        export_log_record(
            by=user,
            source=source,
            layout=layout,
            fmt=fmt,
            items=items,
            rows=built.rows,
            filename=name,
        )
        response = FileResponse(opened, content_type=writers.CONTENT_TYPES[fmt])
        response["X-Data-As-Of"] = built.built_at.isoformat(timespec="seconds")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

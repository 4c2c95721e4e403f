"""One download as an HTTP response, for the web pages and the API alike (always logged)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from analytics.exports import layouts, writers
from analytics.exports import variables as var
from analytics.exports.services import export_log_finish, export_log_record, export_write
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
    """Send one layout in one format: CSV streamed chunk by chunk, other formats from a file."""
    name = filename(layout, fmt, items)
    response: HttpResponse
    if fmt == "csv":
        log = export_log_record(
            by=user, source=source, layout=layout, fmt=fmt, items=items, filename=name
        )
        counter = [0]
        frames = writers.counting(layouts.frames(layout, items=items), counter)
        pieces = writers.csv_chunks(frames, var.variables_of(layout, items=items))
        response = StreamingHttpResponse(
            _logged_stream(pieces, log, counter), content_type=writers.CONTENT_TYPES["csv"]
        )
    else:
        handle, temporary = tempfile.mkstemp(suffix=f".{fmt}")
        os.close(handle)
        path = Path(temporary)
        try:
            export_write(layout=layout, fmt=fmt, path=path, by=user, source=source, items=items)
            opened = path.open("rb")
        finally:
            # The open file stays readable after its name is gone.
            path.unlink(missing_ok=True)
        response = FileResponse(opened, content_type=writers.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""One download as an HTTP response, for the web pages and the API alike (always logged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_noop

from analytics.exports import layouts, snapshots, writers
from analytics.exports import variables as var
from analytics.exports.services import export_build, export_log_finish, export_log_record
from analytics.models import ExportLog
from cohort.models import Patient, Study
from cohort.selectors import patients_for_user, studies_for_user


def filename(layout: str, fmt: str, items: bool, study: Any = None) -> str:
    """Return the file name of a download: study, layout, items or not, and today's date."""
    suffix = "_items" if items else ""
    prefix = study.code.lower() if study is not None else "ketamine"
    return f"{prefix}_{layout}{suffix}_{timezone.localdate().isoformat()}.{fmt}"


def export_patients(user: Any, study: Any = None) -> QuerySet[Patient]:
    """Return the patients a user's download holds: their sites', of ``study`` if given.

    Each layout keeps only the patients of the studies whose data it holds
    (``layouts.of_layout``).
    """
    patients = patients_for_user(user)
    return patients if study is None else patients.filter(site__study=study)


def study_downloads(protocol: Any) -> list[dict[str, Any]]:
    """Return the downloads of a study's layouts (``variables.layouts_of``), in order."""
    downloads = [
        {"layout": layout, "title": var.LAYOUT_LABELS[layout], "items": False}
        for layout in var.layouts_of(protocol)
    ]
    if "long" in var.layouts_of(protocol):
        downloads.insert(
            1,
            {
                "layout": "long",
                "title": gettext_noop("Long with item answers (importable)"),
                "items": True,
            },
        )
    return downloads


def export_study(user: Any, layout: str, code: str | None) -> Study | None:
    """Return the study a download is asked for (``?study=``), or None for every study.

    A study the user does not see, or whose data the layout does not hold, does not exist.
    """
    if not code:
        return None
    study = studies_for_user(user).filter(code=code).first()
    if study is None or layout not in var.layouts_of(study.protocol):
        raise Http404("No such export.")
    return study


def _logged_stream(pieces: Iterator[str], log: ExportLog, counter: list[int]) -> Iterator[str]:
    yield from pieces
    export_log_finish(log=log, rows=counter[0])


def download_response(
    *, user: Any, layout: str, fmt: str, items: bool, source: str, study: Any = None
) -> HttpResponse:
    """Send one layout in one format, from a recent snapshot or built for this request.

    With snapshots off, CSV is streamed chunk by chunk as it is read from the database. The
    file holds the user's patients (``export_patients``), of ``study`` if given.
    """
    name = filename(layout, fmt, items, study)
    patients = export_patients(user, study)
    response: HttpResponse
    if fmt == "csv" and snapshots.max_age() == 0:
        log = export_log_record(
            by=user, source=source, layout=layout, fmt=fmt, items=items, filename=name
        )
        counter = [0]
        frames = writers.counting(layouts.frames(layout, patients, items=items), counter)
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
            build=lambda path: export_build(
                layout=layout, fmt=fmt, path=path, items=items, patients=patients
            ),
            scope=study.code if study is not None else "",
            shared=not user.is_site_scoped,
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

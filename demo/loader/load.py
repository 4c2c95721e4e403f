"""Replace the demo study by a generated cohort: sites, then every clinical table, parents first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from cohort.models import Site
from demo.loader.calls import call_ids, insert_attempts, insert_calls
from demo.loader.events import insert_adverse_events, insert_treatments
from demo.loader.lan import SITES as LAN_SITES
from demo.loader.lan import LanDemo, insert_lan, upsert_lan_sites
from demo.loader.patients import (
    insert_administrations,
    insert_contacts,
    insert_patients,
    patient_ids,
    upsert_sites,
)
from demo.loader.purge import CLINICAL_MODELS, demo_purge
from demo.loader.responses import insert_responses
from demo.loader.writer import RowWriter
from demo.synthetic import DemoCohort

Progress = Callable[[str, int], None]


@dataclass
class LoadReport:
    """How many rows of each kind were written."""

    counts: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def demo_load(
    cohort: DemoCohort, *, progress: Progress | None = None, lan: LanDemo | None = None
) -> LoadReport:
    """Replace the demo studies by ``cohort`` (the first study) and ``lan`` (the second, when
    given); return the number of rows written per table."""
    step = progress or (lambda label, n: None)
    codes = list(cohort.sites.code) + ([code for code, _n, _c in LAN_SITES] if lan else [])
    clash = Site.objects.filter(code__in=codes, is_demo=False)
    if clash.exists():
        raise ValueError(
            "Refused: demo site codes are used by real sites: "
            + ", ".join(clash.values_list("code", flat=True))
        )
    demo_purge()
    step("purged", 0)
    sites = upsert_sites(cohort.sites)
    step("sites", len(sites))
    writer = RowWriter(CLINICAL_MODELS)
    try:
        report = _write_rows(cohort, sites, writer, step)
    except BaseException:
        writer.finish(failed=True)
        raise
    writer.finish()
    writer.reset_sequences(CLINICAL_MODELS)
    if lan is not None:
        # A writer of its own: it takes the first free ids after the first study's rows.
        report.counts |= insert_lan(lan, upsert_lan_sites(), writer.stamp(timezone.now()))
        step("second study", report.counts["lan_patients"])
    transaction.on_commit(_refresh_statistics)
    return report


def _refresh_statistics() -> None:
    """Let PostgreSQL's planner see the new row counts at once (autovacuum would, later).

    Run once the load has committed: without it the planner takes the freshly filled tables
    for empty ones and scans them whole. The vacuum marks the new pages all-visible, so that
    the covering indexes (the worklist's) answer from the index alone from the first request.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def _write_rows(
    cohort: DemoCohort, sites: dict[str, Site], writer: RowWriter, step: Progress
) -> LoadReport:
    """Build and write the rows of every clinical table, parents first."""
    now = writer.stamp(timezone.now())
    counts: dict[str, int] = {}

    def done(label: str, key: str, n: int) -> None:
        counts[key] = n
        step(label, n)

    patients = cohort.patients.reset_index(drop=True)
    patient = patient_ids(writer, patients)
    done("patients", "patients", insert_patients(writer, patients, patient, sites, now))
    done("contacts", "contacts", insert_contacts(writer, patients, patient, now))
    administered = insert_administrations(writer, cohort.administrations, patient, now)
    done("administrations", "administrations", administered)

    calls = cohort.calls.reset_index(drop=True)
    call = call_ids(writer, calls)
    done("calls", "calls", insert_calls(writer, calls, call, patient, now))
    done("attempts", "attempts", insert_attempts(writer, cohort.attempts, call, now))
    counts.update(insert_responses(writer, calls, call.ids, now))
    step("questionnaires", counts["nprs"] + counts["hads"] + counts["sf12"])

    events = insert_adverse_events(writer, cohort.adverse_events, call, now)
    done("adverse events", "adverse_events", events)
    done("treatments", "treatments", insert_treatments(writer, cohort.treatments, call, now))
    return LoadReport(counts)

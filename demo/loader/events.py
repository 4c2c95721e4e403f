"""The adverse events and concomitant treatments reported at the calls."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cohort import vocabulary as voc
from demo.loader.frames import CallIds, table, text_or_blank
from demo.loader.writer import RowWriter
from followup.models import AdverseEvent, ConcomitantTreatment


def _expected_types() -> list[str]:
    from safety.models import ExpectedEffect

    return list(ExpectedEffect.objects.values_list("type", flat=True))


def insert_adverse_events(writer: RowWriter, events: pd.DataFrame, calls: CallIds, now: str) -> int:
    """Write the adverse events, expected when the safety app lists the type; return how many."""
    events = events.reset_index(drop=True)
    return writer.insert(
        AdverseEvent,
        table(
            {
                "id": writer.next_id(AdverseEvent) + np.arange(len(events)),
                "call_id": calls.of(events, "Adverse events"),
                "type": events.type,
                "other_text": text_or_blank(events.other_text),
                "severity": events.severity,
                "serious": events.serious.astype(bool),
                **{
                    f"criterion_{code}": events.criterion.eq(code).to_numpy()
                    for code in voc.codes(voc.SERIOUSNESS_CRITERIA)
                },
                "start_date": None,
                "relation": events.relation.fillna("").to_numpy(),
                "expected": np.where(
                    events.type.eq("other"), None, events.type.isin(_expected_types())
                ),
                "action_taken": "",
                "outcome": events.outcome.to_numpy(),
                "resolution_date": None,
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def insert_treatments(writer: RowWriter, treatments: pd.DataFrame, calls: CallIds, now: str) -> int:
    """Write the concomitant treatments; return how many."""
    treatments = treatments.reset_index(drop=True)
    return writer.insert(
        ConcomitantTreatment,
        table(
            {
                "id": writer.next_id(ConcomitantTreatment) + np.arange(len(treatments)),
                "call_id": calls.of(treatments, "Treatments"),
                "kind": treatments.kind,
                "code": treatments.code,
                "name": "",
                "other_text": "",
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )

"""Read the depression study (Lan et al. 2022) into the frames its analysis takes.

The frames have the columns and dtypes of ``trials.lan2022.synthetic.Trial``, so that
``analytics.stats.moderation.report(data.patients, data.visits, data.infusions, data.adverse)``
runs on the database as on a simulated trial. Seven set-based queries, whatever the number of
patients. The mapping (docs/lan2022.md, "From the database to the frames"):

* ``patient`` is the patient's id; only patients of a study whose definition collects the
  depression baseline are read (a patient of the first study never is), and only those
  included on or before ``as_of``;
* ``patients``: the sex of the patient file (``men``), the ``DepressionBaseline``
  (``two_or_more_antidepressants`` is a count of 2 or more), the SF-MPQ rated at ``BL`` (VAS,
  sensory, affective, PPI, total), the weight;
* ``visits``: one row per visit of the study's definition that rates the MADRS and whose call's
  target date is on or before ``as_of`` (a visit not yet due is absent, not missing); ``visit``
  is its position in the definition and ``day`` its offset in days, ``madrs`` the total of the
  live assessment rated on or before ``as_of``, NaN when there is none (missing);
* ``infusions``: the live administrations given on or before ``as_of``, numbered from 1 in date
  order, ``day`` counted from the first, ``minutes`` the infusion's length;
* ``adverse``: the live adverse effects that began on or before ``as_of``, each given to the
  last infusion on or before its onset; the vocabulary's ``dissociation_hallucination`` is the
  trial's ``dissociation``, an "other" effect is its description in snake case.

Voided rows are never read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from django.db.models import QuerySet

from analytics.routers import analysis_reads
from cohort.models import KetamineAdministration, Patient
from followup.models import (
    AdverseEvent,
    DepressionBaseline,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
)
from followup.visits import MADRS, visits_rating
from trials import definitions

BASELINE_VISIT: Final = "BL"
# The adverse-effect vocabulary's codes that the trial names otherwise.
SYMPTOM_OF_TYPE: Final[dict[str, str]] = {"dissociation_hallucination": "dissociation"}
FLAGS: Final = ("suicidality", "mood_stabilizers", "benzodiazepines", "antipsychotics")
DOMAINS: Final = ("vas", "sensory", "affective", "ppi", "total")


@dataclass(frozen=True)
class LanData:
    """The depression study as of a day: the four frames of its analysis."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    infusions: pd.DataFrame
    adverse: pd.DataFrame
    as_of: dt.date

    def fingerprint(self) -> str:
        """Return the sha256 (hex) of the four frames' content and of ``as_of``."""
        digest = hashlib.sha256(self.as_of.isoformat().encode())
        for name in ("patients", "visits", "infusions", "adverse"):
            frame: pd.DataFrame = getattr(self, name)
            digest.update(f"\n#{name}\n".encode())
            digest.update(frame.to_csv(index=False, lineterminator="\n").encode())
        return digest.hexdigest()


def depression_study_keys() -> tuple[str, ...]:
    """Return the keys of the definitions whose patients have a depression baseline."""
    return tuple(d.key for d in definitions.definitions() if d.collects_depression_baseline)


def load(patients: QuerySet[Patient], *, as_of: dt.date) -> LanData:
    """Read the given patients of the depression study as of ``as_of`` (see the module)."""
    with analysis_reads():
        cohort = _patients(patients, as_of)
        ids = list(cohort["patient"])
        visits = _visits(cohort, ids, as_of)
        infusions = _infusions(ids, as_of)
        adverse = _adverse(ids, infusions, as_of)
    return LanData(
        cohort.drop(columns=["definition"]),
        visits,
        infusions.drop(columns=["date"]),
        adverse,
        as_of,
    )


def _patients(patients: QuerySet[Patient], as_of: dt.date) -> pd.DataFrame:
    rows = (
        patients.filter(site__study__definition__in=depression_study_keys())
        .filter(inclusion_date__lte=as_of)
        .order_by("pk")
        .values_list("pk", "sex", "weight_kg", "site__study__definition")
    )
    frame = pd.DataFrame(list(rows), columns=["patient", "sex", "weight_kg", "definition"]).astype(
        {"patient": "int64", "weight_kg": "float64"}
    )
    ids = list(frame["patient"])
    baseline = pd.DataFrame(
        list(
            DepressionBaseline.objects.filter(patient_id__in=ids).values_list(
                "patient_id",
                "pain_group",
                "suicidality",
                "antidepressants",
                "mood_stabilisers",
                "benzodiazepines",
                "antipsychotics",
            )
        ),
        columns=["patient", "pain_group", "suicidality", "antidepressants", *FLAGS[1:]],
    )
    baseline["two_or_more_antidepressants"] = baseline.pop("antidepressants") >= 2
    sf_mpq = pd.DataFrame(
        list(
            SfMpqAssessment.objects.filter(
                patient_id__in=ids,
                visit_code=BASELINE_VISIT,
                voided_at__isnull=True,
                assessed_on__lte=as_of,
            ).values_list("patient_id", "vas_mm", "sensory", "affective", "ppi", "total")
        ),
        columns=["patient", *DOMAINS],
    )
    frame = frame.merge(baseline, on="patient", how="left").merge(sf_mpq, on="patient", how="left")
    frame["men"] = frame.pop("sex").eq("M")
    columns = ["patient", "pain_group", "men", FLAGS[0], "two_or_more_antidepressants"]
    columns += [*FLAGS[1:], *DOMAINS, "weight_kg", "definition"]
    frame = frame[columns]
    frame["pain_group"] = frame["pain_group"].astype("str").where(frame["pain_group"].notna())
    for column in (*FLAGS, "two_or_more_antidepressants", *DOMAINS):
        # Typed as the trial's when every patient has the value; otherwise missing stays NaN.
        if frame[column].notna().all():
            kind = "int64" if column in DOMAINS else "bool"
            frame[column] = frame[column].astype(kind)
    return frame.reset_index(drop=True)


def _visits(cohort: pd.DataFrame, ids: list[int], as_of: dt.date) -> pd.DataFrame:
    """Return the visits due by ``as_of`` that rate the MADRS, with the live totals."""
    plan = []
    for key in cohort["definition"].unique():
        protocol = definitions.load(key)
        rated = visits_rating(protocol, MADRS)
        for position, code in enumerate(rated):
            plan.append((key, code, position, protocol.visit(code).days))
    plan_frame = pd.DataFrame(plan, columns=["definition", "code", "visit", "day"])
    calls = pd.DataFrame(
        list(
            FollowUpCall.objects.filter(patient_id__in=ids, target_date__lte=as_of).values_list(
                "patient_id", "timepoint"
            )
        ),
        columns=["patient", "code"],
    )
    calls = calls.merge(cohort[["patient", "definition"]], on="patient")
    calls = calls.merge(plan_frame, on=["definition", "code"])
    madrs = pd.DataFrame(
        list(
            MadrsAssessment.objects.filter(
                patient_id__in=ids, voided_at__isnull=True, assessed_on__lte=as_of
            ).values_list("patient_id", "visit_code", "total")
        ),
        columns=["patient", "code", "madrs"],
    )
    visits = calls.merge(madrs, on=["patient", "code"], how="left")
    visits = visits.sort_values(["patient", "visit"], ignore_index=True)
    return visits[["patient", "visit", "day", "madrs"]].astype(
        {"patient": "int64", "visit": "int64", "day": "int64", "madrs": "float64"}
    )


def _infusions(ids: list[int], as_of: dt.date) -> pd.DataFrame:
    """Return the live administrations given by ``as_of``, numbered and dated from the first."""
    given = pd.DataFrame(
        list(
            KetamineAdministration.objects.filter(
                patient_id__in=ids, voided_at__isnull=True, date__lte=as_of
            )
            .order_by("patient_id", "date", "pk")
            .values_list("patient_id", "date", "dose_mg", "infusion_minutes")
        ),
        columns=["patient", "date", "dose_mg", "minutes"],
    )
    given["date"] = pd.to_datetime(given["date"])
    given["infusion"] = given.groupby("patient").cumcount() + 1
    first = given.groupby("patient")["date"].transform("min")
    given["day"] = (given["date"] - first).dt.days
    given["dose_mg"] = given["dose_mg"].astype("float64")
    minutes = given["minutes"].astype("float64")
    given["minutes"] = minutes.astype("int64") if minutes.notna().all() else minutes
    frame = given[["patient", "infusion", "day", "dose_mg", "minutes", "date"]]
    return frame.astype({"patient": "int64", "infusion": "int64", "day": "int64"})


def _adverse(ids: list[int], infusions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return the live adverse effects begun by ``as_of``, each given to its infusion."""
    effects = pd.DataFrame(
        list(
            AdverseEvent.objects.filter(
                call__patient_id__in=ids, voided_at__isnull=True, start_date__lte=as_of
            )
            .order_by("call__patient_id", "start_date", "pk")
            .values_list("call__patient_id", "start_date", "type", "other_text", "severity")
        ),
        columns=["patient", "date", "type", "other_text", "severity"],
    )
    columns = ["patient", "infusion", "day", "symptom", "severity"]
    if effects.empty or infusions.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns[:3]}).assign(
            symptom=pd.Series(dtype="str"), severity=pd.Series(dtype="str")
        )
    effects["date"] = pd.to_datetime(effects["date"])
    other = effects["other_text"].str.strip().str.lower().str.replace(r"\W+", "_", regex=True)
    effects["symptom"] = np.where(
        effects["type"].eq("other"), other, effects["type"].replace(SYMPTOM_OF_TYPE)
    )
    given = infusions[["patient", "date", "infusion", "day"]].sort_values("date")
    matched = pd.merge_asof(
        effects.sort_values("date"), given, on="date", by="patient", direction="backward"
    )
    matched = matched.dropna(subset=["infusion"])
    matched = matched.sort_values(["patient", "infusion", "symptom"], ignore_index=True)
    return matched[columns].astype(
        {
            "patient": "int64",
            "infusion": "int64",
            "day": "int64",
            "symptom": "str",
            "severity": "str",
        }
    )

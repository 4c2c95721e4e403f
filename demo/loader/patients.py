"""The demo sites, patients, their contacts and their ketamine administrations."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd

from cohort.fields import encrypt
from cohort.models import KetamineAdministration, Patient, PatientContact, Site, dose_in_mg
from demo.loader.frames import PatientIds, iso_dates, positions, table, text_or_blank
from demo.loader.writer import RowWriter


def upsert_sites(frame: pd.DataFrame) -> dict[str, Site]:
    """Create or update the demo sites (marked ``is_demo``); return them by code."""
    sites = {}
    for row in frame.itertuples(index=False):
        site, _ = Site.objects.update_or_create(
            code=row.code, defaults={"name": row.name, "city": row.city, "is_demo": True}
        )
        sites[row.code] = site
    return sites


def patient_ids(writer: RowWriter, patients: pd.DataFrame) -> PatientIds:
    """Allocate an id to each patient of the (positionally indexed) frame."""
    return PatientIds(
        codes=pd.Index(patients.study_code),
        ids=writer.next_id(Patient) + np.arange(len(patients)),
        weight_kg=patients.weight_kg.round(1).to_numpy(),
    )


def insert_patients(
    writer: RowWriter, patients: pd.DataFrame, ids: PatientIds, sites: dict[str, Site], now: str
) -> int:
    """Write the patients; return how many."""
    dn4 = patients.dn4
    site_ids = pd.Series({code: site.pk for code, site in sites.items()})
    fibromyalgia = (patients.etiology == "fibromyalgia").to_numpy()
    return writer.insert(
        Patient,
        table(
            {
                "id": ids.ids,
                "study_code": patients.study_code,
                "site_id": site_ids.to_numpy()[
                    positions(site_ids.index, pd.Index(patients.site_code), "Patients")
                ],
                "sex": patients.sex,
                "age": patients.age.astype(np.int64),
                "inclusion_date": iso_dates(patients.inclusion_date),
                "consent_date": iso_dates(patients.consent_date),
                "weight_kg": ids.weight_kg,
                "etiology": patients.etiology,
                "pain_duration_months": patients.pain_duration_months.astype(np.int64),
                "comorbidities": np.array(
                    [json.dumps(list(c)) for c in patients.comorbidities], dtype=object
                ),
                "ketamine_naive": patients.ketamine_naive,
                "dn4": dn4,
                "dn4_missing_reason": np.where(
                    dn4.isna().to_numpy() & fibromyalgia, "not_applicable", ""
                ).astype(object),
                "paroxysms_per_day": patients.paroxysms_per_day,
                "status": patients.status,
                "status_date": iso_dates(patients.status_date),
                "status_reason": text_or_blank(patients.status_reason),
                "call_from": None,
                "call_to": None,
                "call_days": "",
                "call_note": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def insert_contacts(writer: RowWriter, patients: pd.DataFrame, ids: PatientIds, now: str) -> int:
    """Write each patient's identifiers, encrypted as the app stores them; return how many."""

    def encrypted(values: pd.Series) -> np.ndarray:
        return np.array([encrypt(v) for v in values], dtype=object)

    return writer.insert(
        PatientContact,
        table(
            {
                "id": writer.next_id(PatientContact) + np.arange(len(patients)),
                "patient_id": ids.ids,
                "first_name": encrypted(patients.first_name),
                "last_name": encrypted(patients.last_name),
                "phone": encrypted(patients.phone),
                "phone_alt": "",
                "preferred_call_time": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def daily_cents(unit: pd.Series, value: pd.Series, weight: np.ndarray) -> np.ndarray:
    """Return each daily dose in hundredths of mg, calling ``dose_in_mg`` once per distinct dose."""
    keys = pd.DataFrame(
        {"unit": unit.to_numpy(dtype=object), "value": value.to_numpy(), "weight": weight}
    )
    distinct = keys.drop_duplicates(ignore_index=True)
    distinct["cents"] = [
        int(dose_in_mg(unit=u, value=Decimal(str(v)), weight_kg=Decimal(str(w))).scaleb(2))
        for u, v, w in distinct.itertuples(index=False, name=None)
    ]
    # A left merge keeps the order of the left rows.
    return keys.merge(distinct, how="left", on=["unit", "value", "weight"])["cents"].to_numpy()


def insert_administrations(
    writer: RowWriter, administrations: pd.DataFrame, patients: PatientIds, now: str
) -> int:
    """Write the administrations, doses converted by the app's own rule; return how many."""
    administrations = administrations.reset_index(drop=True)
    owner = patients.rows_of(administrations, "Administrations")
    kg = patients.weight_kg[owner]
    days = administrations.days.to_numpy(dtype=np.int64)
    # Whole hundredths keep dose and total exact; k / 100 as a float prints back as k / 100.
    cents = daily_cents(administrations.dose_unit, administrations.dose_value, kg)
    return writer.insert(
        KetamineAdministration,
        table(
            {
                "id": writer.next_id(KetamineAdministration) + np.arange(len(administrations)),
                "patient_id": patients.ids[owner],
                "date": iso_dates(administrations.date),
                "route": administrations.route,
                "dose_unit": administrations.dose_unit,
                "dose_value": administrations.dose_value.to_numpy(dtype=float),
                "weight_kg": kg,
                "dose_mg": cents / 100,
                "days": days,
                "total_mg": cents * days / 100,
                "infusion_minutes": administrations.infusion_minutes,
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )

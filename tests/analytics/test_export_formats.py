import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from analytics.exports import layouts, writers
from analytics.exports import variables as var
from analytics.exports.services import export_write
from analytics.models import ExportLog
from cohort.models import Patient, PatientContact
from demo.loader import demo_load
from demo.synthetic import generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    cohort = generate(20, seed=8)
    demo_load(cohort)
    return cohort


def read_back(path, fmt):
    """Return the data of an export file as pandas reads it, and the labels it carries."""
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False), {}
    if fmt == "xlsx":
        return pd.read_excel(path, sheet_name="data", dtype=str), {}
    if fmt == "parquet":
        table = pq.read_table(path)
        labels = {f.name: f.metadata[b"label"].decode() for f in table.schema}
        return table.to_pandas(), labels
    reader = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
    frame, meta = reader(str(path))
    return frame, {"columns": meta.column_names_to_labels, "values": meta.variable_value_labels}


CODES = {
    "dta": {"BL": 1, "F": 1, "M": 2},
    "sav": {"BL": 1, "F": 1, "M": 2},
}


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_each_format_reads_back_with_the_database_values(loaded, tmp_path, fmt):
    path = tmp_path / f"long.{fmt}"
    log = export_write(layout="long", fmt=fmt, path=path, by=None, source="command")
    frame, _ = read_back(path, fmt)
    assert log.rows == len(frame) == 20 * 14
    patient = Patient.objects.order_by("study_code").first()
    bl = patient.calls.get(timepoint="BL")
    row = frame[(frame.study_id == patient.study_code)].iloc[0]
    # Stata and SPSS number the codes in the order of their vocabulary (labelled with the text);
    # the other formats keep the text.
    coded = CODES.get(fmt, {})
    assert row.timepoint == coded.get("BL", "BL")
    assert row.sex == coded.get(patient.sex, patient.sex)
    assert float(row.nprs_mean) == bl.nprs.mean
    assert float(row.age) == patient.age
    assert float(row.sf12_pcs) == pytest.approx(bl.sf12.pcs, abs=1e-9)
    assert str(row.call_date)[:10] == bl.call_date.isoformat()


@pytest.mark.parametrize("fmt", ["dta", "sav"])
def test_stata_and_spss_files_carry_variable_and_value_labels(loaded, tmp_path, fmt):
    path = tmp_path / f"baseline.{fmt}"
    export_write(layout="baseline", fmt=fmt, path=path, by=None, source="command")
    frame, labels = read_back(path, fmt)
    assert list(frame.columns) == var.names(var.BASELINE)
    assert labels["columns"]["age"] == "Age at inclusion"
    assert labels["columns"]["dn4"] == "DN4 score"
    values = labels["values"]
    assert values["sex"] == {1: "Female", 2: "Male"}
    assert values["cm_migraine"] == {0: "No", 1: "Yes"}
    assert values["etiology"][1] == "Fibromyalgia"
    fibro = frame[frame.etiology == 1]
    assert fibro.dn4.isna().all(), "DN4 is system missing, never a sentinel"


def test_parquet_keeps_types_and_labels(loaded, tmp_path):
    path = tmp_path / "long.parquet"
    export_write(layout="long", fmt="parquet", path=path, by=None, source="command", items=True)
    table = pq.read_table(path)
    assert str(table.schema.field("call_date").type) == "date32[day]"
    assert str(table.schema.field("hads_1").type) == "int64"
    frame, labels = read_back(path, "parquet")
    assert labels["nprs_mean"] == "Mean pain intensity (NPRS)"
    expected = layouts.frame("long", items=True)
    assert frame.hads_3.astype("Int64").equals(expected.hads_3)


def test_xlsx_with_items_holds_the_administrations_and_the_variables(loaded, tmp_path):
    path = tmp_path / "long.xlsx"
    export_write(layout="long", fmt="xlsx", path=path, by=None, source="command", items=True)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "administrations", "variables"]
    assert len(sheets["administrations"]) == len(loaded.administrations)
    assert "sf12_mh4" in set(sheets["variables"].variable)


def test_no_identifier_appears_in_any_layout_or_format(loaded, patient_a, tmp_path):
    contacts = list(PatientContact.objects.all())
    secrets = {c.last_name for c in contacts} | {c.phone for c in contacts}
    secrets |= {c.first_name for c in contacts}
    assert "Martin" in secrets
    for layout in var.LAYOUTS:
        for fmt in writers.FORMATS:
            path = tmp_path / f"{layout}.{fmt}"
            export_write(
                layout=layout, fmt=fmt, path=path, by=None, source="command",
                items=layout == "long",
            )  # fmt: skip
            frame, _ = read_back(path, fmt)
            text = frame.astype(str).to_csv()
            if fmt in ("csv", "dta", "sav"):
                text += path.read_bytes().decode("latin-1")
            found = [s for s in secrets if s and s in text]
            assert not found, (layout, fmt, found[:3])
    assert ExportLog.objects.count() == len(var.LAYOUTS) * len(writers.FORMATS)

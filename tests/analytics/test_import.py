import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from analytics.exports import importer
from analytics.exports.services import export_write
from cohort.models import Patient, Site
from demo.loader import demo_load, demo_purge
from demo.synthetic import generate
from followup.models import HadsResponse

pytestmark = pytest.mark.django_db(transaction=False)


def export(tmp_path, name, fmt="csv", layout="long", items=True):
    path = tmp_path / f"{name}.{fmt}"
    export_write(layout=layout, fmt=fmt, path=path, by=None, source="command", items=items)
    return path


@pytest.fixture
def exported(tmp_path):
    demo_load(generate(8, seed=21))
    data = export(tmp_path, "first")
    administrations = export(tmp_path, "first_admin", layout="administrations", items=False)
    demo_purge()
    assert not Patient.objects.exists()
    return data, administrations


def test_demo_cohort_round_trips_exactly_through_csv(tmp_path):
    demo_load(generate(30, seed=21))
    data = export(tmp_path, "first")
    administrations = export(tmp_path, "first_admin", layout="administrations", items=False)
    demo_purge()
    call_command("import_dataset", data, "--administrations", administrations, stdout=None)
    again = export(tmp_path, "again")
    assert again.read_bytes() == data.read_bytes()


def test_import_derives_scores_and_writes_history_with_the_file_name(exported):
    data, administrations = exported
    importer.dataset_import(path=data, administrations=administrations, by=None)
    hads = HadsResponse.objects.filter(item_1__isnull=False).first()
    assert hads.anxiety is not None
    reasons = set(hads.history.values_list("history_change_reason", flat=True))
    assert reasons == {"Imported from first.csv"}
    patient = Patient.objects.first()
    assert patient.history.get().history_change_reason == "Imported from first.csv"
    assert not hasattr(patient, "contact") or patient.contact is None


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_small_cohort_round_trips_through_xlsx_and_parquet(tmp_path, fmt):
    demo_load(generate(6, seed=4))
    data = export(tmp_path, "first", fmt=fmt)
    administrations = None
    if fmt != "xlsx":
        administrations = export(tmp_path, "adm", fmt=fmt, layout="administrations", items=False)
    first_csv = export(tmp_path, "first_csv")
    demo_purge()
    importer.dataset_import(path=data, administrations=administrations, by=None)
    assert export(tmp_path, "again_csv").read_bytes() == first_csv.read_bytes()


def test_dry_run_checks_everything_and_writes_nothing(exported):
    data, administrations = exported
    report = importer.dataset_import(
        path=data, administrations=administrations, by=None, dry_run=True
    )
    assert report.patients == 8
    assert not Patient.objects.exists()


def test_every_problem_is_reported_with_its_row_and_column_and_nothing_is_written(
    exported, tmp_path
):
    data, administrations = exported
    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    frame.loc[0, "hads_1"] = "7"  # out of range (row 2 in a spreadsheet)
    frame.loc[3, "nprs_mean"] = "ten"  # not a number (row 5)
    frame.loc[4, "sex"] = "X"  # unknown code (row 6)
    frame.loc[15, "age"] = "12"  # differs from the patient's first row (row 17)
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.dataset_import(path=broken, administrations=administrations, by=None)
    where = {(p.row, p.column) for p in refused.value.problems}
    assert {(2, "hads_1"), (5, "nprs_mean"), (6, "sex"), (17, "age")} <= where
    assert not Patient.objects.exists()


def test_missing_administrations_and_existing_patients_are_refused(exported, tmp_path):
    data, administrations = exported
    with pytest.raises(importer.ImportRefused) as refused:
        importer.dataset_import(path=data, by=None)
    assert refused.value.problems[0].column == "administrations"
    importer.dataset_import(path=data, administrations=administrations, by=None)
    with pytest.raises(importer.ImportRefused) as again:
        importer.dataset_import(path=data, administrations=administrations, by=None)
    assert all("already in the database" in p.message for p in again.value.problems)
    assert len(again.value.problems) == 8


def test_site_map_renames_sites_and_study_codes_and_creates_the_site(exported):
    data, administrations = exported
    old = pd.read_csv(data, dtype=str).site.iloc[0]
    call_command(
        "import_dataset", data, "--administrations", administrations, "--site-map", f"{old}=NEW1",
        stdout=None,
    )  # fmt: skip
    assert Site.objects.filter(code="NEW1", is_demo=False).exists()
    moved = Patient.objects.filter(site__code="NEW1")
    assert moved.exists()
    assert all(p.study_code.startswith("NEW1-") for p in moved)
    assert not Patient.objects.filter(site__code=old).exists()


def test_command_lists_the_problems_and_fails(exported, tmp_path, capsys):
    data, administrations = exported
    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    frame.loc[1, "call_date"] = "2020-13-45"
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_dataset", broken, "--administrations", administrations)
    assert "data, row 3, call_date" in capsys.readouterr().err

"""The import reads its files a chunk at a time: the chunking changes nothing but the memory."""

import pandas as pd
import pytest
from django.core.management import call_command

from analytics.exports import importer
from analytics.exports.services import export_write
from cohort.models import Patient
from demo.loader import demo_load, demo_purge
from demo.synthetic import generate

pytestmark = pytest.mark.django_db(transaction=False)


def export(tmp_path, name, fmt="csv", layout="long", items=True):
    path = tmp_path / f"{name}.{fmt}"
    export_write(layout=layout, fmt=fmt, path=path, by=None, source="command", items=items)
    return path


def rows_of(path):
    return len(pd.read_csv(path, dtype=str))


@pytest.mark.parametrize(
    ("fmt", "chunk_rows"), [("csv", 3), ("csv", 9), ("xlsx", 6), ("parquet", 13)]
)
def test_any_chunk_size_imports_what_one_chunk_imports(tmp_path, fmt, chunk_rows):
    demo_load(generate(8, seed=21))
    first_csv = export(tmp_path, "first_csv")
    data = export(tmp_path, "first", fmt=fmt)
    administrations = None
    if fmt != "xlsx":
        administrations = export(tmp_path, "adm", fmt=fmt, layout="administrations", items=False)
    admin_rows = rows_of(export(tmp_path, "adm_csv", layout="administrations", items=False))
    demo_purge()
    # The last chunk of each file is a partial one: the boundary case.
    assert rows_of(first_csv) % chunk_rows
    assert admin_rows % chunk_rows
    report = importer.dataset_import(
        path=data, administrations=administrations, by=None, chunk_rows=chunk_rows
    )
    assert (report.patients, report.calls, report.administrations) == (
        8, rows_of(first_csv), admin_rows
    )  # fmt: skip
    assert export(tmp_path, "again_csv").read_bytes() == first_csv.read_bytes()


@pytest.fixture
def exported(tmp_path):
    demo_load(generate(8, seed=21))
    data = export(tmp_path, "first")
    administrations = export(tmp_path, "first_admin", layout="administrations", items=False)
    demo_purge()
    return data, administrations


def test_a_problem_in_a_later_chunk_has_its_row_in_the_file(exported, tmp_path):
    data, administrations = exported
    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    frame.loc[10, "sex"] = "X"  # row 12 in a spreadsheet: the third chunk of 5 rows
    frame.loc[13, "nprs_mean"] = "ten"  # row 15
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    with pytest.raises(importer.ImportRefused) as refused:
        importer.dataset_import(path=broken, administrations=administrations, by=None, chunk_rows=5)
    where = {(p.row, p.column) for p in refused.value.problems}
    assert {(12, "sex"), (15, "nprs_mean")} <= where
    assert not Patient.objects.exists()


def test_progress_counts_every_row_checked_and_reaches_the_total_written(exported):
    data, administrations = exported
    told = []
    report = importer.dataset_import(
        path=data,
        administrations=administrations,
        by=None,
        chunk_rows=6,
        progress=lambda stage, done, total: told.append((stage, done, total)),
    )
    checked = [done for stage, done, _ in told if stage == "checked"]
    written = [(done, total) for stage, done, total in told if stage == "written"]
    records = report.patients + report.administrations + report.calls
    assert checked == sorted(checked)
    assert checked[-1] == report.calls + report.administrations
    assert len(checked) > 2
    assert len(written) > 2
    assert [done for done, _ in written] == sorted(done for done, _ in written)
    assert written[-1] == (records, records)


def test_the_command_shows_the_progress_on_stderr(exported, capsys):
    data, administrations = exported
    call_command("import_dataset", data, "--dry-run", "--administrations", administrations,
                 "--verbosity", "0")  # fmt: skip
    assert capsys.readouterr().err == ""
    call_command("import_dataset", data, "--administrations", administrations)
    out, err = capsys.readouterr()
    assert "imported 8 patients" in out
    lines = err.splitlines()
    assert lines[0].startswith("checked ")
    assert lines[0].endswith(" rows")
    assert lines[-1].startswith("written ")
    assert lines[-1].endswith(" records (100%)")

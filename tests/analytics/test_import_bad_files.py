"""Files that are not an export are refused with a message that says why, never a traceback."""

import zipfile

import pytest
from django.core.management import CommandError, call_command

from cohort.models import Patient

pytestmark = pytest.mark.django_db


def _import(path, *args):
    call_command("import_dataset", str(path), *args)


def test_a_file_of_another_kind_is_refused_by_its_name(tmp_path):
    path = tmp_path / "cohort.json"
    path.write_text('{"patients": []}')
    with pytest.raises(CommandError, match=r"cannot import cohort\.json: expected \.csv"):
        _import(path)


def test_an_empty_csv_is_refused_as_empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"cannot import empty\.csv: the file is empty"):
        _import(path)


def test_a_csv_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CommandError, match=r"cannot import photo\.csv: not a readable CSV file"):
        _import(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"study_id,site\nSA-0001,SA\n", b"PK\x03\x04 a zip archive cut short"],
    ids=["empty", "text", "truncated-zip"],
)
def test_a_corrupt_xlsx_is_refused(tmp_path, content):
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=r"cannot import book\.xlsx: not a readable XLSX file"):
        _import(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(CommandError, match=r"cannot import book\.xlsx: not a readable XLSX file"):
        _import(path)


def test_a_corrupt_parquet_file_is_refused(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(CommandError, match=r"cannot import data\.parquet: not a readable PARQUET"):
        _import(path)


def test_wrong_columns_are_each_reported_and_nothing_is_written(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text("name,phone\nJeanne,0473000000\n")
    administrations = tmp_path / "administrations.csv"
    administrations.write_text("when,how_much\n2026-01-05,50\n")
    with pytest.raises(CommandError, match="problem\\(s\\); nothing was imported"):
        _import(data, "--administrations", str(administrations))
    err = capsys.readouterr().err
    assert "study_id" in err
    assert "required column is missing" in err
    assert "name" in err
    assert "unknown column" in err
    assert "how_much" in err
    assert not Patient.objects.exists()


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _import(tmp_path / "nowhere.csv")


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path, settings):
    settings.IMPORT_MAX_MB = 1
    path = tmp_path / "big.csv"
    # Not even CSV: the limit is checked before any reading.
    path.write_bytes(b"\x00" * (1024 * 1024 + 1))
    with pytest.raises(
        CommandError,
        match=r"cannot import big\.csv: the file is 1\.0 MB, more than the limit of 1 MB "
        r"\(IMPORT_MAX_MB\)",
    ):
        _import(path)
    path.write_bytes(b"\x00" * (1024 * 1024))  # at the limit: read, then refused for its rows
    with pytest.raises(CommandError, match=r"problem\(s\); nothing was imported"):
        _import(path)

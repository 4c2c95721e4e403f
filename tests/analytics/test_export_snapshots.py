"""Downloads asked for within EXPORT_SNAPSHOT_SECONDS share one build."""

import datetime as dt
import io

import pandas as pd
import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analytics.exports import snapshots
from analytics.models import ExportLog
from tests.factories import enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots_on(settings, tmp_path):
    settings.EXPORT_SNAPSHOT_SECONDS = 60
    settings.VAR_DIR = tmp_path
    cache.clear()
    return tmp_path / "exports"


def download(client, layout="long", fmt="csv"):
    response = client.get(reverse("analytics:export_download", args=[layout, fmt]))
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content), response


def rows(body):
    return len(pd.read_csv(io.BytesIO(body)))


def test_a_second_download_within_the_delay_sends_the_same_file(
    client, statistician, site_a, patient_a, snapshots_on
):
    client.force_login(statistician)
    first, response = download(client)
    enrol(site=site_a)
    again, second_response = download(client)
    assert again == first
    assert second_response["X-Data-As-Of"] == response["X-Data-As-Of"]
    assert len(list(snapshots_on.glob("long_*.csv"))) == 1
    # Every download is logged, with the rows of the file it was sent.
    assert list(ExportLog.objects.values_list("rows", flat=True)) == [rows(first)] * 2


def test_a_download_after_the_delay_is_built_again_with_the_new_data(
    client, statistician, site_a, patient_a, snapshots_on
):
    client.force_login(statistician)
    first, _ = download(client)
    enrol(site=site_a)
    later = timezone.now() + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        again, response = download(client)
    assert rows(again) == rows(first) + 14
    assert response["X-Data-As-Of"] == later.isoformat(timespec="seconds")


def test_each_layout_and_format_has_its_own_snapshot(client, statistician, patient_a, snapshots_on):
    client.force_login(statistician)
    download(client, "long", "csv")
    download(client, "wide", "csv")
    download(client, "long", "parquet")
    names = sorted(p.suffix for p in snapshots_on.iterdir() if not p.name.endswith(".json"))
    assert names == [".csv", ".csv", ".parquet"]


def test_while_another_process_builds_the_previous_snapshot_is_sent(
    client, statistician, site_a, patient_a, snapshots_on
):
    client.force_login(statistician)
    first, _ = download(client)
    enrol(site=site_a)
    target = next(snapshots_on.glob("long_*.csv"))
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=120), tick=False):
        cache.add(f"export-snapshot-lock:{target.name}", 1, timeout=60)
        again, _ = download(client)
    assert again == first


def test_without_a_previous_snapshot_a_busy_builder_means_a_private_copy(
    client, statistician, patient_a, snapshots_on
):
    built = []

    def build(path):
        path.write_text("x\n1\n")
        built.append(path)
        return 1

    lock_name = snapshots._key("long", "csv", False)
    cache.add(f"export-snapshot-lock:{lock_name}", 1, timeout=60)
    result = snapshots.snapshot(layout="long", fmt="csv", items=False, build=build)
    assert not result.kept
    assert result.path == built[0]
    assert not (snapshots_on / lock_name).exists()


def test_a_failed_build_leaves_no_file_and_releases_the_lock(snapshots_on):
    def build(path):
        path.write_text("half")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        snapshots.snapshot(layout="long", fmt="csv", items=False, build=build)
    assert list(snapshots_on.iterdir()) == []
    assert cache.add(f"export-snapshot-lock:{snapshots._key('long', 'csv', False)}", 1)


def test_with_snapshots_off_the_csv_is_streamed_from_the_database(
    client, statistician, patient_a, settings
):
    settings.EXPORT_SNAPSHOT_SECONDS = 0
    client.force_login(statistician)
    response = client.get(reverse("analytics:export_download", args=["long", "csv"]))
    assert response.streaming
    assert not hasattr(response, "file_to_stream") or response.file_to_stream is None

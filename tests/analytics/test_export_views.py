import io

import pandas as pd
import pyreadstat
import pytest
from django.urls import reverse

from analytics.exports import variables as var
from analytics.exports import writers
from analytics.models import ExportLog

pytestmark = pytest.mark.django_db


def download(client, layout, fmt, **params):
    return client.get(reverse("analytics:export_download", args=[layout, fmt]), params)


@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a"])
def test_nurses_and_clinicians_are_refused_every_export(client, request, persona, patient_a):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("analytics:export_list")).status_code == 403
    assert download(client, "long", "csv").status_code == 403
    assert download(client, "baseline", "dta").status_code == 403
    dictionary = reverse("analytics:export_dictionary", args=["csv"])
    assert client.get(dictionary).status_code == 403
    assert not ExportLog.objects.exists()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = download(client, "long", "csv")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["statistician", "data_manager"])
def test_statisticians_and_data_managers_see_the_list(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("analytics:export_list"))
    assert response.status_code == 200
    assert reverse("analytics:export_download", args=["wide", "sav"]).encode() in response.content
    assert b"?items=1" in response.content


def test_csv_download_is_streamed_and_logged_with_its_rows(
    client, statistician, patient_a, patient_b
):
    client.force_login(statistician)
    response = download(client, "long", "csv")
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == var.names(var.LONG)
    assert len(frame) == 28
    log = ExportLog.objects.get()
    assert (log.user, log.source, log.layout, log.format, log.rows) == (
        statistician, "web", "long", "csv", 28,
    )  # fmt: skip


def test_csv_with_items_holds_no_identifier(client, data_manager, patient_a, patient_b):
    client.force_login(data_manager)
    response = download(client, "long", "csv", items="1")
    text = b"".join(response.streaming_content).decode()
    assert "hads_14" in text.splitlines()[0]
    for secret in ("Jeanne", "Martin", "Paul", "Durand", "+33 4 73 00 00 00"):
        assert secret not in text
    assert ExportLog.objects.get().items


@pytest.mark.parametrize("fmt", ["xlsx", "dta", "sav", "parquet"])
def test_other_formats_are_sent_as_files_and_logged(client, statistician, patient_a, fmt):
    client.force_login(statistician)
    response = download(client, "baseline", fmt)
    assert response.status_code == 200
    assert response["Content-Type"] == writers.CONTENT_TYPES[fmt]
    body = b"".join(response.streaming_content)
    assert len(body) > 100
    log = ExportLog.objects.get()
    assert (log.format, log.rows, log.source) == (fmt, 1, "web")


def test_sav_download_reads_back_with_labels(client, statistician, patient_a, tmp_path):
    client.force_login(statistician)
    path = tmp_path / "b.sav"
    path.write_bytes(b"".join(download(client, "baseline", "sav").streaming_content))
    frame, meta = pyreadstat.read_sav(str(path))
    assert frame.age.iloc[0] == 52
    assert meta.column_names_to_labels["dn4"] == "DN4 score"


def test_unknown_layout_or_format_is_404(client, statistician):
    client.force_login(statistician)
    assert download(client, "patients", "csv").status_code == 404
    assert download(client, "long", "txt").status_code == 404


def test_dictionary_downloads_are_logged(client, statistician):
    client.force_login(statistician)
    html = client.get(reverse("analytics:export_dictionary", args=["html"]))
    assert b"<code>nprs_mean</code>" in html.content
    csv = client.get(reverse("analytics:export_dictionary", args=["csv"]))
    assert b"variable,label,type" in csv.content
    assert ExportLog.objects.filter(layout="dictionary").count() == 2

"""An import stores the same rows and history as the import it was measured against.

``data/import_snapshot.json`` holds what importing the demo cohort below stored (the count and a
hash of the rows of each clinical table and its history, ``import_snapshot``) before the write
path was made faster; the import must still store exactly that. Regenerate it only for an
intended change of what an import stores:
``IMPORT_SNAPSHOT_WRITE=1 pytest tests/analytics/test_import_exact.py``.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from analytics.exports import importer
from analytics.exports.services import export_write
from demo.loader import demo_load, demo_purge
from demo.synthetic import generate
from tests.analytics.import_snapshot import snapshot

pytestmark = pytest.mark.django_db(transaction=False)

SNAPSHOT = Path(__file__).parent / "data" / "import_snapshot.json"


def test_an_import_stores_the_rows_and_history_it_always_stored(tmp_path):
    demo_load(generate(12, seed=5))
    data, administrations = tmp_path / "cohort.csv", tmp_path / "cohort_admin.csv"
    export_write(layout="long", fmt="csv", path=data, by=None, source="command", items=True)
    export_write(
        layout="administrations", fmt="csv", path=administrations, by=None, source="command"
    )
    demo_purge()
    importer.dataset_import(path=data, administrations=administrations, by=None, chunk_rows=50)
    stored = {
        table: {"rows": len(rows), "sha256": hashlib.sha256("\n".join(rows).encode()).hexdigest()}
        for table, rows in snapshot().items()
    }
    if os.environ.get("IMPORT_SNAPSHOT_WRITE"):
        SNAPSHOT.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    assert stored == json.loads(SNAPSHOT.read_text())

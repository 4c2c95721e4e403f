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
from tests.analytics.import_snapshot import snapshot
from tests.import_files import demo_import_files

pytestmark = pytest.mark.django_db(transaction=False)

SNAPSHOT = Path(__file__).parent / "data" / "import_snapshot.json"


def test_an_import_stores_the_rows_and_history_it_always_stored(tmp_path):
    data, administrations = demo_import_files(
        tmp_path, 12, seed=5, names=("cohort.csv", "cohort_admin.csv")
    )
    importer.dataset_import(path=data, administrations=administrations, by=None, chunk_rows=50)
    stored = {
        table: {"rows": len(rows), "sha256": hashlib.sha256("\n".join(rows).encode()).hexdigest()}
        for table, rows in snapshot().items()
    }
    if os.environ.get("IMPORT_SNAPSHOT_WRITE"):
        SNAPSHOT.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    assert stored == json.loads(SNAPSHOT.read_text())

"""A demo cohort written out as the importer's two files, then purged: where an import starts."""

from __future__ import annotations

from pathlib import Path

from analytics.exports.services import export_write
from demo.loader import demo_load, demo_purge
from demo.synthetic import generate


def demo_import_files(
    tmp_path: Path, n_patients: int, seed: int, names: tuple[str, str]
) -> tuple[Path, Path]:
    """Load a demo cohort, export it (long layout with items, administrations), purge it.

    Returns the data file and the administrations file, both CSV, named ``names`` (an import
    writes its file's name into the history it leaves).
    """
    demo_load(generate(n_patients, seed=seed))
    data, administrations = tmp_path / names[0], tmp_path / names[1]
    export_write(layout="long", fmt="csv", path=data, by=None, source="command", items=True)
    export_write(
        layout="administrations", fmt="csv", path=administrations, by=None, source="command"
    )
    demo_purge()
    return data, administrations

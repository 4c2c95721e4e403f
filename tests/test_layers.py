"""The import contracts of pyproject.toml (``lint-imports``) hold, and fail when broken.

The contracts are run on the real tree, then on copies of the apps' sources into which one
forbidden import was written: an upward import between layers, the import cycle between the
cohort and the follow-up, and one app importing another app's views. Each copy must fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "cohort", "followup", "safety", "analytics", "quality", "demo", "config")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of ``root``'s pyproject.toml on the packages under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _sources_only(folder: str, names: list[str]) -> set[str]:
    """Leave out what is not Python source (shutil.copytree's ``ignore``)."""
    skipped = {name for name in names if not (Path(folder) / name).is_dir()}
    return {"__pycache__"} | {name for name in skipped if not name.endswith(".py")}


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the apps' Python sources and of pyproject.toml."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=_sources_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_copy_keeps_every_contract_before_it_is_changed(copy):
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr


# Each forbidden import, written into one copy, and the link the contracts must then report.
FORBIDDEN = [
    # A lower layer importing an upper one.
    ("cohort/models.py", "import analytics.services", "cohort.models -> analytics.services"),
    ("accounts/services.py", "import cohort.models", "accounts.services -> cohort.models"),
    # The cycle the schedule's writes used to make: the cohort's services calling the follow-up's.
    (
        "cohort/services/__init__.py",
        "from followup.services import schedule_create",
        "cohort.services -> followup.services",
    ),
    ("safety/services.py", "import analytics.services", "safety.services -> analytics.services"),
    ("analytics/dataset.py", "import quality.models", "analytics.dataset -> quality.models"),
    # One app importing another app's views (downwards: only the views contracts see it).
    ("quality/views.py", "import followup.views", "quality.views -> followup.views"),
    ("config/views.py", "from cohort.views import patient_list", "config.views -> cohort.views"),
]


def test_every_forbidden_import_breaks_a_contract(copy):
    for module, line, _link in FORBIDDEN:
        path = copy / module
        path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout
    missed = [link for _module, _line, link in FORBIDDEN if link not in result.stdout]
    assert not missed, result.stdout

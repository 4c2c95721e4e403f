"""Every environment variable the settings read is documented: a row of the README's table and a
line of .env.example (commented out when it has no sensible production value)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The helpers of config/env.py, and the standard library's ways of reading a variable.
READERS = {"env_str", "env_bool", "env_int", "env_list", "env_date", "getenv"}


def variables_read(source: str) -> set[str]:
    """The names of the environment variables a settings module reads (first argument of a
    reader called with a literal name)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first, func = node.args[0], node.func
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        is_environ_get = name == "get" and "environ" in ast.unparse(func)
        if name in READERS or is_environ_get:
            names.add(first.value)
    return names


def readme_variables(text: str) -> set[str]:
    """The variables named in the first cell of the README's table rows."""
    rows = (line.split("|")[1] for line in text.splitlines() if line.startswith("| `"))
    return {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)}


def env_example_variables(text: str) -> set[str]:
    """The variables given a line ``NAME=`` in .env.example, set or commented out."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_parser_finds_the_reads_of_every_form():
    source = (
        'A = env_int("ONE", 1)\n'
        'B = env_bool(\n    "TWO", default=False\n)\n'
        'C = os.environ.get("THREE")\n'
        'D = os.getenv("FOUR")\n'
        'E = {"x": 60.0 * env_int("FIVE", 60)}\n'
        'F = other("NOT_A_VARIABLE")\n'
    )
    assert variables_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}


def test_every_variable_the_settings_read_is_in_the_readme_and_the_env_example():
    read = variables_read((ROOT / "config" / "settings.py").read_text(encoding="utf-8"))
    assert len(read) > 50  # the parser sees the settings' reads
    in_readme = readme_variables((ROOT / "README.md").read_text(encoding="utf-8"))
    in_example = env_example_variables((ROOT / ".env.example").read_text(encoding="utf-8"))
    assert sorted(read - in_readme) == [], "missing from the README's table"
    assert sorted(read - in_example) == [], "missing from .env.example"

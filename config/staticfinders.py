"""Serve plotly.js from the installed plotly package, so its version is pinned with the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
PREFIX = "vendor/plotly"
FILES = ("plotly.min.js",)


class PlotlyFinder(BaseFinder):
    """Expose ``vendor/plotly/plotly.min.js`` (and nothing else of the package)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_DIR))
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        name = path.removeprefix(PREFIX + "/")
        found = [str(PLOTLY_DIR / name)] if name in FILES and name != path else []
        if find_all or kwargs.get("all"):
            return found
        return found[0] if found else None

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for name in FILES:
            yield name, self.storage

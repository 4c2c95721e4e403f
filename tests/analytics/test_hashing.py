"""The fingerprint's column hashes: those of the column hashed row by row, as texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.hashing import column_hashes


def _row_by_row(values: pd.Series) -> np.ndarray:
    """The fingerprint's hashes as first written: every row mapped to its text, then hashed."""
    if values.dtype == object:
        values = values.map(lambda v: repr(v) if isinstance(v, (list, tuple)) else v)
        values = values.astype(str)
    return pd.util.hash_pandas_object(values, index=False).to_numpy()


def _columns(seed: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    texts = np.array(["refused", "unreachable", "", "None", "nan", "é ü"], dtype=object)
    n = 300
    reasons = texts[rng.integers(0, len(texts), n)]
    reasons[rng.random(n) < 0.6] = None
    mixed_nulls = reasons.copy()
    mixed_nulls[rng.random(n) < 0.2] = np.nan
    return {
        "reasons": pd.Series(reasons, dtype=object),
        "mixed_nulls": pd.Series(mixed_nulls, dtype=object),
        "all_none": pd.Series([None] * n, dtype=object),
        "all_nan": pd.Series([np.nan] * n, dtype=object),
        "texts": pd.Series(texts[rng.integers(0, len(texts), n)], dtype=object),
        "booleans": pd.Series(rng.choice([True, False, None], n), dtype=object),
        "numbers_and_texts": pd.Series(rng.choice([1, 1.0, True, "1", None], n), dtype=object),
        "lists": pd.Series([["a", i % 3] if i % 4 else None for i in range(n)], dtype=object),
        "floats": pd.Series(rng.random(n)),
        "str_dtype": pd.Series(texts[rng.integers(0, len(texts), n)]).astype("str"),
        "empty": pd.Series([], dtype=object),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_column_hashes_are_those_hashed_row_by_row(seed):
    for name, values in _columns(seed).items():
        expected = _row_by_row(values)
        assert np.array_equal(column_hashes(values), expected), name

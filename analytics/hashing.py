"""The hashes of a frame's columns that ``StudyData.fingerprint`` digests (pure pandas).

A column of objects is hashed as its texts: lists and tuples by ``repr``, any other value by
``astype(str)`` (nulls stay nulls). Most such columns hold a few distinct texts and many nulls (the
missing reasons): their texts are hashed once per distinct value and taken per row, which gives
the hashes of the whole column hashed row by row (``tests/analytics/test_hashing.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def column_hashes(values: pd.Series) -> np.ndarray:
    """Return the 64-bit hash of each value of the column ``values`` (an array, row order)."""
    if values.dtype != object:
        return _hashes(values)
    array = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(array, skipna=True) not in ("string", "empty"):
        return text_hashes(values)
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    hashes = np.empty(len(array), dtype=np.uint64)
    present = codes >= 0
    hashes[present] = text_hashes(pd.Series(uniques, dtype=object))[codes[present]]
    nulls = array[~present]
    if len(nulls):
        # The nulls by kind (None, NaN, ...): each kind hashed once.
        none = np.fromiter((value is None for value in nulls), dtype=bool, count=len(nulls))
        null_hashes = np.empty(len(nulls), dtype=np.uint64)
        null_hashes[none] = text_hashes(pd.Series([None], dtype=object))[0]
        if not none.all():
            null_hashes[~none] = text_hashes(pd.Series(nulls[~none], dtype=object))
        hashes[~present] = null_hashes
    return hashes


def text_hashes(values: pd.Series) -> np.ndarray:
    """Return the hashes of a column of objects as texts, row by row."""
    texts = values.map(_text).astype(str)
    return _hashes(texts)


def _text(value: Any) -> Any:
    return repr(value) if isinstance(value, (list, tuple)) else value


def _hashes(values: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(values, index=False).to_numpy()

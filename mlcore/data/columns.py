"""What each column of a table is, which task a target implies, and a sensible default choice.

Column kinds:
- ``numeric``: numbers (used as they are, imputed and scaled);
- ``categorical``: text, booleans or pandas categories (one-hot encoded);
- ``date``: ``datetime64`` (not a feature by itself; year/month/day/weekday can be derived);
- ``constant``: at most one distinct value (carries no information: excluded by default);
- ``id``: an identifier (every value different: row numbers, codes, names): excluded by default,
  since a network could only memorise it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.config import ColumnChoice, Task

MAX_CLASSES = 50  # a classification target with more classes than this is not sensible here
MIN_ROWS_PER_CLASS = 5  # ... nor one with fewer rows than this per class on average
FEW_INTEGER_VALUES = 20  # an integer target with at most this many values is a class label
_ID_NAME = re.compile(r"(^|[_\s-])(id|ids|uuid|index|idx|code|codigo|código|dni|nif)$", re.IGNORECASE)
USABLE_KINDS = ("numeric", "categorical", "date")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str  # "numeric" | "categorical" | "date" | "constant" | "id"
    dtype: str
    missing: int
    unique: int

    @property
    def usable(self) -> bool:
        return self.kind in USABLE_KINDS


def is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            and not isinstance(s.dtype, pd.CategoricalDtype))


def is_date(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def column_kind(s: pd.Series, name: str = "") -> str:
    values = s.dropna()
    n_unique = int(values.nunique())
    if n_unique <= 1:
        return "constant"
    if is_date(s):
        return "date"
    if is_numeric(s):
        ints = pd.api.types.is_integer_dtype(values) or bool(np.all(values == np.round(values)))
        if ints and n_unique == len(values) and len(values) >= 10:
            arr = np.sort(values.to_numpy())
            if np.all(np.diff(arr) == 1) or _ID_NAME.search(name):
                return "id"
        return "numeric"
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(s):
        return "categorical"
    named_like_id = bool(_ID_NAME.search(name))
    if len(values) >= 20 and (n_unique == len(values) or (named_like_id and n_unique > 0.9 * len(values))):
        return "id"
    return "categorical"


def infer_columns(df: pd.DataFrame) -> list[ColumnInfo]:
    """Per column: kind, dtype, missing count and number of distinct values."""
    return [
        ColumnInfo(
            name=str(name), kind=column_kind(df[name], str(name)), dtype=str(df[name].dtype),
            missing=int(df[name].isna().sum()), unique=int(df[name].nunique(dropna=True)),
        )
        for name in df.columns
    ]


def infer_task(target: pd.Series) -> Task:
    """Classification for text, booleans, categories and few whole-number values (binary with two
    classes); regression for numbers with many distinct values."""
    values = target.dropna()
    n_unique = int(values.nunique())
    if is_numeric(target):
        whole = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
        if not (whole and n_unique <= FEW_INTEGER_VALUES):
            return Task.REGRESSION
    return Task.BINARY if n_unique == 2 else Task.MULTICLASS


def max_classes(n_rows: int) -> int:
    """The most classes that make sense for ``n_rows`` rows (at least 2)."""
    return max(2, min(MAX_CLASSES, n_rows // MIN_ROWS_PER_CLASS))


def default_choice(df: pd.DataFrame, infos: list[ColumnInfo] | None = None) -> ColumnChoice:
    """The last column as the target (the usual layout; the last numeric or categorical column when
    the last one is an identifier or a date) and every other usable column as a feature."""
    infos = infos if infos is not None else infer_columns(df)
    usable = [c.name for c in infos if c.kind in ("numeric", "categorical")]
    target = infos[-1].name if infos else ""
    if infos and infos[-1].kind in ("id", "date") and usable:
        target = usable[-1]
    features = tuple(c.name for c in infos if c.usable and c.name != target)
    return ColumnChoice(target=target, features=features)

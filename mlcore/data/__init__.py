"""The data layer: built-in datasets, CSV reading, column inference, preprocessing and splits.

``from mlcore.data import ...`` gives the whole public API; the submodules hold one idea each:

- ``builtins``: ``BUILTINS`` registry, ``load_builtin``, ``toy_1d``/``toy_1d_truth``;
- ``csvfile``: ``read_csv_bytes`` for real-world files, ``MAX_UPLOAD_MB``, ``MAX_ROWS``;
- ``columns``: ``infer_columns``, ``infer_task``, ``default_choice``;
- ``prepare``: ``prepare``/``prepare_builtin`` (split first, preprocessing fitted on train only);
- ``summary``: records for the Data page's figures (class balance, histogram, 2-D view).

Light on purpose: numpy and pandas at import time, scikit-learn only inside the functions that use
it, never torch.
"""

from mlcore.data.builtins import (
    BUILTINS,
    TOY_1D_DOMAIN,
    TOYS_1D,
    BuiltinSpec,
    BuiltinTable,
    builtin_spec,
    check_builtin,
    load_builtin,
    load_builtin_table,
    toy_1d,
    toy_1d_truth,
)
from mlcore.data.columns import (
    MAX_CLASSES,
    ColumnInfo,
    default_choice,
    infer_columns,
    infer_task,
    max_classes,
)
from mlcore.data.csvfile import MAX_ROWS, MAX_UPLOAD_MB, NA_MARKERS, CsvTable, read_csv_bytes
from mlcore.data.prepare import (
    DATE_PARTS,
    IMPUTE_CHOICES,
    MAX_CATEGORIES,
    MIN_ROWS,
    column_notes,
    prepare,
    prepare_builtin,
    prepare_table,
    rebuild,
    split_indices,
)
from mlcore.data.summary import (
    ClassBalance,
    TargetHistogram,
    View2D,
    class_balance,
    image_samples,
    split_counts,
    target_histogram,
    view_2d,
)

__all__ = [
    "BUILTINS", "TOY_1D_DOMAIN", "TOYS_1D", "BuiltinSpec", "BuiltinTable", "builtin_spec", "check_builtin",
    "load_builtin", "load_builtin_table", "toy_1d", "toy_1d_truth",
    "MAX_CLASSES", "ColumnInfo", "default_choice", "infer_columns", "infer_task", "max_classes",
    "MAX_ROWS", "MAX_UPLOAD_MB", "NA_MARKERS", "CsvTable", "read_csv_bytes",
    "DATE_PARTS", "IMPUTE_CHOICES", "MAX_CATEGORIES", "MIN_ROWS", "column_notes", "prepare",
    "prepare_builtin", "prepare_table", "rebuild", "split_indices",
    "ClassBalance", "TargetHistogram", "View2D", "class_balance", "image_samples", "split_counts",
    "target_histogram", "view_2d",
]

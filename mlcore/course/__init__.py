"""The course's concepts as small functions with typed results (one idea per module).

``neuron``       a single neuron ``y = a(sum w_i x_i + b)``, a layer of m neurons, q stacked layers
``activations``  activation functions and their derivatives (torch autograd), dead ReLUs, and why a
                 network without nonlinearity collapses to one linear map
``forward``      the forward pass as matrix products ``Z = W X`` (bias folded into W), mini-batch timing
``backprop``     a 2-2-1 network stepped through the chain rule, checked against torch autograd

Pages render these records; nothing here imports streamlit. torch is imported by the modules that
need it, never by this package, so ``import mlcore.course`` stays light.

``course_rows`` gives the rows a course page shows: the user's current dataset when there is one,
otherwise the iris data set bundled with scikit-learn, standardised (the page says which).
"""

from __future__ import annotations

from dataclasses import dataclass

import functools

import numpy as np

BUILTIN_NAME = "iris"


@dataclass(frozen=True)
class CourseRows:
    """Feature rows for a course page: ``X`` is (n_rows, n_features) float32, already preprocessed."""

    name: str
    X: np.ndarray
    feature_names: tuple[str, ...]
    builtin: bool  # True when no dataset was loaded and the built-in one is used

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


@functools.lru_cache(maxsize=1)
def builtin_rows() -> CourseRows:
    """Iris (150 rows, 4 features) standardised with scikit-learn's ``StandardScaler``. Computed
    once per process (course pages ask for it on every rerun) and read-only, since it is shared."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    X = StandardScaler().fit_transform(iris.data).astype(np.float32)
    X.setflags(write=False)
    return CourseRows(BUILTIN_NAME, X, tuple(iris.feature_names), builtin=True)


def course_rows(data=None, max_rows: int | None = None) -> CourseRows:
    """The training rows of ``data`` (a ``PreparedData``), or the built-in rows when ``data`` is None."""
    if data is None:
        rows = builtin_rows()
    else:
        rows = CourseRows(
            str(data.name),
            np.asarray(data.X_train, dtype=np.float32),
            tuple(str(f) for f in data.feature_names),
            builtin=False,
        )
    if max_rows is not None and rows.X.shape[0] > max_rows:
        rows = CourseRows(rows.name, rows.X[:max_rows], rows.feature_names, rows.builtin)
    return rows

"""Built-in datasets: seeded 2-D and 1-D toys, and scikit-learn's bundled real datasets.

Every dataset is a plain table (``pandas.DataFrame``) with a target column, so built-ins and
uploaded CSV files go through the same ``prepare`` step. Classification targets are pandas
``Categorical`` columns whose categories are the class labels shown to the user.

- 2-D classification toys (features ``x1``, ``x2``): moons, circles, xor, spiral, blobs.
  ``n_samples``, ``noise`` and (spiral, blobs) ``n_classes`` apply; the ``seed`` fixes them.
- 1-D regression toys (feature ``x``): sin, step, abs, poly on ``x`` in ``TOY_1D_DOMAIN``.
  The course pages reuse them directly through ``toy_1d`` and the noiseless ``toy_1d_truth``.
- Real data bundled with scikit-learn (no download): iris, wine, breast_cancer, digits (8x8
  images), diabetes (regression). Size and noise do not apply.

Only numpy and pandas are imported at module level; scikit-learn is imported where it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.config import BuiltinConfig, Task
from mlcore.errors import ConfigError

TOY_1D_DOMAIN = (-3.0, 3.0)


@dataclass(frozen=True)
class BuiltinSpec:
    """What a built-in dataset is and which controls apply to it.

    ``task`` is None for toys whose task depends on ``n_classes`` (binary with 2 classes).
    The display name and description are the catalogue keys ``data.builtin.<name>`` and
    ``data.builtin.<name>.desc``.
    """

    name: str
    group: str  # "toy2d" | "toy1d" | "real"
    target: str
    task: Task | None
    uses_n_samples: bool = False
    uses_noise: bool = False
    uses_classes: bool = False
    image_shape: tuple[int, int] | None = None
    default_noise: float = 0.2
    n_samples_range: tuple[int, int] = (50, 5000)
    noise_range: tuple[float, float] = (0.0, 1.0)
    classes_range: tuple[int, int] = (2, 5)

    @property
    def is_toy(self) -> bool:
        return self.group in ("toy2d", "toy1d")


def _toy2d(name: str, classes: bool = False, noise: float = 0.2) -> BuiltinSpec:
    return BuiltinSpec(name, "toy2d", "y", None if classes else Task.BINARY, uses_n_samples=True,
                       uses_noise=True, uses_classes=classes, default_noise=noise)


def _toy1d(name: str) -> BuiltinSpec:
    return BuiltinSpec(name, "toy1d", "y", Task.REGRESSION, uses_n_samples=True, uses_noise=True)


BUILTINS: dict[str, BuiltinSpec] = {
    spec.name: spec
    for spec in (
        _toy2d("moons"),
        _toy2d("circles", noise=0.1),
        _toy2d("xor"),
        _toy2d("spiral", classes=True),
        _toy2d("blobs", classes=True),
        _toy1d("sin"),
        _toy1d("step"),
        _toy1d("abs"),
        _toy1d("poly"),
        BuiltinSpec("iris", "real", "species", Task.MULTICLASS),
        BuiltinSpec("wine", "real", "cultivar", Task.MULTICLASS),
        BuiltinSpec("breast_cancer", "real", "diagnosis", Task.BINARY),
        BuiltinSpec("digits", "real", "digit", Task.MULTICLASS, image_shape=(8, 8)),
        BuiltinSpec("diabetes", "real", "progression", Task.REGRESSION),
    )
}
TOYS_1D = tuple(name for name, spec in BUILTINS.items() if spec.group == "toy1d")


@dataclass
class BuiltinTable:
    """A built-in dataset as a raw table plus what the table alone cannot say."""

    df: pd.DataFrame
    target: str
    task: Task
    class_names: list[str] | None
    image_shape: tuple[int, int] | None = None

    @property
    def features(self) -> list[str]:
        return [c for c in self.df.columns if c != self.target]


# --- validation -------------------------------------------------------------------------------


def builtin_spec(name: str) -> BuiltinSpec:
    try:
        return BUILTINS[name]
    except KeyError:
        raise ConfigError("err.builtin.unknown", name=name, allowed=", ".join(BUILTINS)) from None


def check_builtin(cfg: BuiltinConfig) -> BuiltinSpec:
    """Validate the controls that apply to ``cfg.name``; return its spec."""
    spec = builtin_spec(cfg.name)
    if spec.uses_n_samples:
        low, high = spec.n_samples_range
        if not isinstance(cfg.n_samples, (int, np.integer)) or not low <= cfg.n_samples <= high:
            raise ConfigError("err.builtin.n_samples", value=cfg.n_samples, low=low, high=high)
    if spec.uses_noise:
        low, high = spec.noise_range
        if not (isinstance(cfg.noise, (int, float, np.number)) and low <= float(cfg.noise) <= high):
            raise ConfigError("err.builtin.noise", value=cfg.noise, low=low, high=high)
    if spec.uses_classes:
        low, high = spec.classes_range
        if not isinstance(cfg.n_classes, (int, np.integer)) or not low <= cfg.n_classes <= high:
            raise ConfigError("err.builtin.n_classes", value=cfg.n_classes, low=low, high=high)
    if not isinstance(cfg.seed, (int, np.integer)) or cfg.seed < 0:
        raise ConfigError("err.builtin.seed", value=cfg.seed)
    return spec


# --- 1-D toys -----------------------------------------------------------------------------------


def toy_1d_truth(name: str, x: np.ndarray) -> np.ndarray:
    """The noiseless function behind a 1-D toy: sin -> sin(2x), step -> 1 if x >= 0 else 0,
    abs -> |x|, poly -> (x^3 - 4x) / 5."""
    x = np.asarray(x, dtype=np.float64)
    if name == "sin":
        return np.sin(2.0 * x)
    if name == "step":
        return (x >= 0).astype(np.float64)
    if name == "abs":
        return np.abs(x)
    if name == "poly":
        return (x**3 - 4.0 * x) / 5.0
    raise ConfigError("err.builtin.unknown", name=name, allowed=", ".join(TOYS_1D))


def toy_1d(name: str, n_samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` points with ``x`` uniform on ``TOY_1D_DOMAIN`` (sorted ascending) and
    ``y = truth(x) + N(0, noise^2)``. Same arguments, same arrays."""
    if name not in TOYS_1D:
        raise ConfigError("err.builtin.unknown", name=name, allowed=", ".join(TOYS_1D))
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(*TOY_1D_DOMAIN, size=int(n_samples)))
    y = toy_1d_truth(name, x) + rng.normal(0.0, float(noise), size=x.shape)
    return x, y


# --- 2-D toys -----------------------------------------------------------------------------------


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0.0, 0.5 * noise, size=X.shape), y


def _spiral(n: int, k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % k
    t = rng.uniform(0.05, 1.0, size=n)
    theta = 2 * np.pi * y / k + 1.75 * np.pi * t
    r = 2.5 * t
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return X + rng.normal(0.0, 0.3 * noise, size=X.shape), y.astype(np.int64)


def _blobs(n: int, k: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k
    centers = 2.5 * np.column_stack([np.cos(angle), np.sin(angle)])
    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=0.3 + 2.0 * noise, random_state=seed)
    return X, y.astype(np.int64)


def _toy2d_arrays(cfg: BuiltinConfig) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles, make_moons

    n, noise, seed = int(cfg.n_samples), float(cfg.noise), int(cfg.seed)
    if cfg.name == "moons":
        return make_moons(n_samples=n, noise=noise, random_state=seed)
    if cfg.name == "circles":
        return make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)
    if cfg.name == "xor":
        return _xor(n, noise, np.random.default_rng(seed))
    if cfg.name == "spiral":
        return _spiral(n, int(cfg.n_classes), noise, np.random.default_rng(seed))
    return _blobs(n, int(cfg.n_classes), noise, seed)


def _class_column(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=labels)


# --- real data ----------------------------------------------------------------------------------


def _real(spec: BuiltinSpec) -> BuiltinTable:
    from sklearn import datasets

    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "diabetes": datasets.load_diabetes,
    }[spec.name]
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    if spec.name == "digits":
        h, w = spec.image_shape
        columns = [f"px_{r}_{c}" for r in range(h) for c in range(w)]
    else:
        columns = [re.sub(r"[^0-9A-Za-z]+", "_", str(c)).strip("_") for c in bunch.feature_names]
    df = pd.DataFrame(X, columns=columns)
    if spec.task is Task.REGRESSION:
        df[spec.target] = np.asarray(bunch.target, dtype=np.float64)
        return BuiltinTable(df, spec.target, spec.task, None, spec.image_shape)
    labels = [str(x) for x in bunch.target_names]
    if spec.name == "wine":
        labels = [f"cultivar_{i}" for i in range(len(labels))]
    df[spec.target] = _class_column(bunch.target, labels)
    return BuiltinTable(df, spec.target, spec.task, labels, spec.image_shape)


# --- public entry points ----------------------------------------------------------------------


def load_builtin_table(cfg: BuiltinConfig) -> BuiltinTable:
    """The raw table of a built-in dataset plus its task, class labels and image shape."""
    spec = check_builtin(cfg)
    if spec.group == "real":
        return _real(spec)
    if spec.group == "toy1d":
        x, y = toy_1d(cfg.name, cfg.n_samples, cfg.noise, cfg.seed)
        df = pd.DataFrame({"x": x, "y": y})
        return BuiltinTable(df, "y", Task.REGRESSION, None)
    X, y = _toy2d_arrays(cfg)
    k = int(cfg.n_classes) if spec.uses_classes else 2
    labels = [str(i) for i in range(k)]
    df = pd.DataFrame({"x1": X[:, 0].astype(np.float64), "x2": X[:, 1].astype(np.float64)})
    df["y"] = _class_column(y, labels)
    return BuiltinTable(df, "y", Task.BINARY if k == 2 else Task.MULTICLASS, labels)


def load_builtin(cfg: BuiltinConfig) -> pd.DataFrame:
    """The raw table (features plus target column) of a built-in dataset."""
    return load_builtin_table(cfg).df


def display_class_names(data, lang: str) -> list[str] | None:
    """The class names to show in ``lang``: a built-in dataset's from the catalogue
    (``data.class.<name>``: breast cancer's malignant / benign), where it has them; other names
    (species, digits, an uploaded file's own labels) as they are."""
    from mlcore.i18n import t

    names = data.class_names
    if not names or data.source.get("kind") != "builtin":
        return names

    def shown(name: str) -> str:
        key = f"data.class.{name}"
        text = t(key, lang)
        return name if text == key else text  # (t gives back the key where there is no entry)

    return [shown(name) for name in names]

"""Lesson presets: one click sets up the data, the model and the training for a classroom
experiment, shows a prompt ("predict, then press Play") and, after the run, an explanation.

Each preset has one or more *steps* (for example "no hidden layer", then "one hidden layer");
each step is a complete setup: a built-in data source, a ``ModelConfig`` and a ``TrainConfig``.
Each step is also a share link (``mlcore.share.encode`` plus ``preset=<id>.<step>``), so a
teacher can hand it to the class. The settings were measured to show what the explanation
claims; ``tests/unit/test_presets.py`` runs every preset and checks its claim.

Texts live in the ``presets`` catalogue: ``preset.<id>.title``, ``.prompt``, ``.explain`` and
``preset.<id>.step.<step>`` for each step's button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig


def builtin_source(name: str, n_samples: int = 500, noise: float = 0.2, seed: int = 0, *, n_classes: int = 3,
                   scale: bool = True, val_frac: float = 0.2, test_frac: float = 0.2, split_seed: int = 0
                   ) -> dict[str, Any]:
    """The data-source record of a built-in dataset (as ``PreparedData.source`` and share links
    hold it). ``scale=False`` keeps real data in its raw units (toys are never scaled)."""
    return {"kind": "builtin", "name": name, "n_samples": int(n_samples), "noise": float(noise),
            "n_classes": int(n_classes), "seed": int(seed), "val_frac": float(val_frac),
            "test_frac": float(test_frac), "split_seed": int(split_seed), "scale": bool(scale)}


@dataclass(frozen=True)
class PresetStep:
    key: str  # catalogue suffix: preset.<id>.step.<key>
    source: dict
    model: ModelConfig
    train: TrainConfig


@dataclass(frozen=True)
class Preset:
    id: str
    steps: tuple[PresetStep, ...]
    hidden: tuple[str, ...] = field(default_factory=tuple)  # controls hidden (ui.teacher control ids)

    @property
    def title_key(self) -> str:
        return f"preset.{self.id}.title"

    @property
    def prompt_key(self) -> str:
        return f"preset.{self.id}.prompt"

    @property
    def explain_key(self) -> str:
        return f"preset.{self.id}.explain"

    def step(self, key: str) -> PresetStep:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)


def _mlp(*units: int, act: str = "relu", **kw) -> ModelConfig:
    return ModelConfig(hidden=tuple(LayerSpec(u, act) for u in units), **kw)


def _train(opt: str, lr: float, epochs: int, batch_size: int = 32, **kw) -> TrainConfig:
    return TrainConfig(optim=OptimConfig(opt, lr=lr), epochs=epochs, batch_size=batch_size, **kw)


_XOR = builtin_source("xor", 400, 0.1, seed=3)
_FEW_NOISY = builtin_source("moons", 60, 0.4)
_SIN = builtin_source("sin", 300, 0.1)
_CIRCLES = builtin_source("circles", 300, 0.1)
_MOONS300 = builtin_source("moons", 300, 0.2)
_MOONS_BATCH = builtin_source("moons", 200, 0.25)
_BIG = _mlp(64, 64)
_OVERFIT_TRAIN = _train("adam", 0.01, 300, 64)

PRESETS: tuple[Preset, ...] = (
    Preset("xor", (
        PresetStep("linear", _XOR, _mlp(), _train("adam", 0.05, 60)),
        PresetStep("hidden", _XOR, _mlp(8, act="tanh"), _train("adam", 0.05, 60)),
    ), hidden=("data.dataset", "train.optimizer", "train.lr")),
    Preset("overfit", (
        PresetStep("overfit", _FEW_NOISY, _BIG, _OVERFIT_TRAIN),
        PresetStep("l2", _FEW_NOISY, _mlp(64, 64, l2=0.01), _OVERFIT_TRAIN),
        PresetStep("dropout", _FEW_NOISY, _mlp(64, 64, dropout=0.5), _OVERFIT_TRAIN),
        PresetStep("early", _FEW_NOISY, _BIG, _train("adam", 0.01, 300, 64, patience=20)),
    ), hidden=("data.dataset",)),
    Preset("diverge", (
        PresetStep("high", _SIN, _mlp(8, 8), _train("sgd", 5.0, 50)),
        PresetStep("low", _SIN, _mlp(8, 8), _train("sgd", 0.05, 50)),
    ), hidden=("data.dataset", "build.architecture", "train.optimizer")),
    Preset("zeros", (
        PresetStep("zeros", _CIRCLES, _mlp(8, 8, act="sigmoid", init="zeros"), _train("adam", 0.05, 60)),
        PresetStep("default", _CIRCLES, _mlp(8, 8, act="sigmoid"), _train("adam", 0.05, 60)),
    ), hidden=("data.dataset", "train.optimizer", "train.lr")),
    Preset("scaling", (
        PresetStep("raw", builtin_source("wine", scale=False), _mlp(16), _train("sgd", 0.05, 50)),
        PresetStep("scaled", builtin_source("wine", scale=True), _mlp(16), _train("sgd", 0.05, 50)),
    ), hidden=("train.optimizer", "train.lr", "build.architecture")),
    Preset("adam_sgd", (
        PresetStep("sgd", builtin_source("breast_cancer", scale=False), _mlp(16), _train("sgd", 0.05, 50)),
        PresetStep("adam", builtin_source("breast_cancer", scale=False), _mlp(16), _train("adam", 0.01, 50)),
    ), hidden=("data.dataset", "build.architecture")),
    Preset("dead_relu", (
        PresetStep("high", _MOONS300, _mlp(16, 16), _train("adam", 1.0, 30)),
        PresetStep("normal", _MOONS300, _mlp(16, 16), _train("adam", 0.01, 30)),
    ), hidden=("data.dataset", "build.architecture", "train.optimizer")),
    Preset("batch", (
        PresetStep("one", _MOONS_BATCH, _mlp(16, 16), _train("sgd", 0.1, 30, 1)),
        PresetStep("mini", _MOONS_BATCH, _mlp(16, 16), _train("sgd", 0.1, 30, 32)),
        PresetStep("full", _MOONS_BATCH, _mlp(16, 16), _train("sgd", 0.1, 30, 120)),  # 120 = all training rows
    ), hidden=("data.dataset", "build.architecture", "train.optimizer", "train.lr")),
)

PRESET_IDS = tuple(p.id for p in PRESETS)


def get_preset(preset_id: str) -> Preset:
    for preset in PRESETS:
        if preset.id == preset_id:
            return preset
    raise KeyError(preset_id)


def parse_ref(ref: str) -> tuple[Preset, PresetStep] | None:
    """``"xor.hidden"`` -> (preset, step); None for anything unknown (links are never trusted)."""
    preset_id, _, step_key = str(ref).partition(".")
    try:
        preset = get_preset(preset_id)
        return preset, preset.step(step_key or preset.steps[0].key)
    except KeyError:
        return None


def prepare_source(source: dict[str, Any]):
    """The ``PreparedData`` of a built-in data source; ``scale=False`` keeps real data unscaled.

    Raises ``MLCoreError`` for invalid settings (the caller shows it or falls back)."""
    from mlcore.config import BuiltinConfig, ColumnChoice, SplitConfig
    from mlcore.data import builtin_spec, load_builtin_table, prepare, prepare_builtin

    cfg = BuiltinConfig(name=source["name"], n_samples=int(source["n_samples"]), noise=float(source["noise"]),
                        n_classes=int(source["n_classes"]), seed=int(source["seed"]))
    split = SplitConfig(val_frac=float(source.get("val_frac", 0.2)), test_frac=float(source.get("test_frac", 0.2)),
                        seed=int(source.get("split_seed", 0)))
    if source.get("scale", True) or builtin_spec(cfg.name).is_toy:
        return prepare_builtin(cfg, split)
    table = load_builtin_table(cfg)
    choice = ColumnChoice(target=table.target, features=tuple(table.features), task=table.task, scale=False)
    data = prepare(table.df, choice, split, name=cfg.name, image_shape=table.image_shape,
                   source={**builtin_source(cfg.name, cfg.n_samples, cfg.noise, cfg.seed, n_classes=cfg.n_classes,
                                            scale=False, val_frac=split.val_frac, test_frac=split.test_frac,
                                            split_seed=split.seed)})
    return data

"""Recorded runs (``mlcore.runs``): their names."""

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
from mlcore.runs import run_label


def test_a_run_s_name_gives_the_learning_rate_to_three_significant_digits():
    model = ModelConfig(hidden=(LayerSpec(8, "relu"), LayerSpec(8, "tanh")))
    tuned = TrainConfig(optim=OptimConfig("adam", lr=0.00443038), batch_size=16)
    assert run_label(model, tuned, 2, 1, "Adam") == "Adam α=0.00443 · 2-8-8-1 relu/tanh · b=16"
    assert run_label(model, TrainConfig(optim=OptimConfig("sgd", lr=5.0)), 2, 1, "SGD").startswith("SGD α=5 · ")
    assert run_label(model, tuned, 2, 1, "Adam", decimal=",") == "Adam α=0,00443 · 2-8-8-1 relu/tanh · b=16"

"""Share links: encode -> decode round trip, and tampered links fall back with a notice."""

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
from mlcore.share import decode, encode, is_share_link

SOURCE = {"kind": "builtin", "name": "spiral", "n_samples": 300, "noise": 0.1, "n_classes": 3, "seed": 4,
          "val_frac": 0.25, "test_frac": 0.1, "split_seed": 7}


def test_round_trip_restores_every_choice():
    model = ModelConfig(hidden=(LayerSpec(16, "tanh"), LayerSpec(4, "gelu")), init="xavier", dropout=0.1, l2=0.001)
    train = TrainConfig(optim=OptimConfig(name="momentum", lr=0.05, momentum=0.8, nesterov=True),
                        batch_size=16, epochs=42, seed=3, patience=5)
    query = encode(model, train, SOURCE)
    assert is_share_link(query)
    source, model2, train2, notices = decode(query)
    assert notices == []
    assert model2 == model
    assert train2 == train
    assert source["name"] == "spiral" and source["n_samples"] == 300 and source["seed"] == 4
    assert (source["val_frac"], source["test_frac"], source["split_seed"]) == (0.25, 0.1, 7)


def test_defaults_are_left_out_of_the_link():
    query = encode(ModelConfig(), TrainConfig(), None)
    assert set(query) == {"arch", "opt"}
    assert decode(query)[1:3] == (ModelConfig(), TrainConfig())


def test_no_hidden_layers_round_trip():
    model = ModelConfig(hidden=())
    assert decode(encode(model, TrainConfig()))[1] == model


def test_tampered_groups_fall_back_to_defaults_with_notices():
    query = {"arch": "8:relu,abc:tanh", "opt": "adam", "lr": "-3", "bs": "32", "ep": "nan"}
    source, model, train, notices = decode(query)
    assert source is None
    assert model == ModelConfig()
    assert train.optim == OptimConfig()  # lr=-3 is invalid
    groups = {params["group"] for key, params in notices}
    assert {key for key, _ in notices} == {"share.invalid"}
    assert groups == {"model", "optimizer", "training"}


def test_unknown_dataset_name_is_rejected():
    query = encode(ModelConfig(), TrainConfig(), {**SOURCE, "name": "spiral"})
    query["ds"] = "../../etc/passwd"
    source, *_rest, notices = decode(query)
    assert source is None
    assert ("share.invalid", {"group": "data"}) in notices


def test_invalid_activation_name_is_a_notice_not_a_crash():
    _, model, _, notices = decode({"arch": "8:swish"})
    assert model == ModelConfig()
    assert notices == [("share.invalid", {"group": "model"})]

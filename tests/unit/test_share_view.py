"""Teacher-mode parameters of share links: hide, tm, preset; old links; tampered values."""

from mlcore.config import LayerSpec, ModelConfig, OptimConfig, TrainConfig
from mlcore.share import HIDE_CODES, decode, decode_view, encode, encode_view, is_share_link


def test_view_round_trip_in_a_fixed_order():
    params = encode_view(("train.lr", "data.dataset", "train.optimizer"), teacher=True, preset="xor.hidden")
    assert params == {"hide": "ds,opt,lr", "tm": "1", "preset": "xor.hidden"}
    assert decode_view(params) == (("data.dataset", "train.optimizer", "train.lr"), True, "xor.hidden", [])
    assert is_share_link({"hide": "opt"}) and is_share_link({"preset": "xor"})
    assert len(set(HIDE_CODES.values())) == len(HIDE_CODES)


def test_old_links_have_no_view_and_open_unchanged():
    query = encode(ModelConfig(hidden=(LayerSpec(4, "tanh"),)), TrainConfig(optim=OptimConfig("sgd", lr=0.2)))
    assert decode_view(query) == ((), False, None, [])
    assert decode(query)[3] == []
    assert encode_view() == {}


def test_tampered_view_falls_back_with_notices():
    hide, teacher, preset, notices = decode_view({"hide": "opt,<script>,opt,,lr", "tm": "yes"})
    assert hide == ("train.optimizer", "train.lr") and teacher is False and preset is None
    assert ("share.invalid", {"group": "hide"}) in notices and ("share.invalid", {"group": "tm"}) in notices
    assert decode_view({"preset": "x" * 500})[2] == "x" * 40  # kept short; ui checks it exists

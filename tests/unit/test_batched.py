"""Batched training (mlcore.batched): every member equals its own ``train.fit`` / ``train.advance``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlcore.batched import Member, advance_many, fit_many, init_many
from mlcore.config import OPTIMIZERS, LayerSpec, ModelConfig, OptimConfig, Task, TrainConfig
from mlcore.errors import ConfigError
from mlcore.evaluate.folds import fold_members
from mlcore.train import TrainArrays, advance, fit, init_state, load_model, predict

TOL = 1e-5


def blobs(n=60, seed=0, n_val=20) -> TrainArrays:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n + n_val)
    X = rng.normal(size=(n + n_val, 2)).astype(np.float32) + np.where(y[:, None] == 1, 1.0, -1.0).astype(np.float32)
    return TrainArrays(X[:n], y[:n], X[n:], y[n:], Task.BINARY, 2)


def wave(n=50, seed=1) -> TrainArrays:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 1)).astype(np.float32)
    y = (np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=n)).astype(np.float32)
    k = 4 * n // 5
    return TrainArrays(X[:k], y[:k], X[k:], y[k:], Task.REGRESSION, 0)


def mcfg(*units, act="tanh", **kw) -> ModelConfig:
    kw.setdefault("binary_head", "softmax")
    return ModelConfig(hidden=tuple(LayerSpec(u, act) for u in units), **kw)


def tcfg(name="adam", lr=0.05, epochs=4, batch_size=16, seed=0, **kw) -> TrainConfig:
    return TrainConfig(OptimConfig(name=name, lr=lr), batch_size=batch_size, epochs=epochs, seed=seed, **kw)


def assert_equal_runs(got, want, tol=TOL):
    """Same weights, history, status and bookkeeping (floats to ``tol``)."""
    assert got.status == want.status
    assert got.epoch == want.epoch
    assert (got.diverged_epoch, got.diverged_step) == (want.diverged_epoch, want.diverged_step)
    assert got.bad_epochs == want.bad_epochs and got.optim_name == want.optim_name
    assert got.model_state.keys() == want.model_state.keys()
    for k in want.model_state:
        np.testing.assert_allclose(got.model_state[k], want.model_state[k], rtol=0, atol=tol, err_msg=k)
    assert len(got.history) == len(want.history)
    for a, b in zip(got.history, want.history):
        assert a.epoch == b.epoch
        for f in ("train_loss", "val_loss", "train_metric", "val_metric"):
            va, vb = getattr(a, f), getattr(b, f)
            assert (math.isnan(va) and math.isnan(vb)) or abs(va - vb) <= tol, (f, a.epoch, va, vb)
    np.testing.assert_array_equal(got.rng_state, want.rng_state)


def references(members):
    return [fit(m.arrays, m.model_cfg, m.train_cfg) for m in members]


@pytest.mark.parametrize("optim", OPTIMIZERS)
def test_batched_kfold_equals_separate_fits_for_every_optimizer(optim):
    lr = {"sgd": 0.2, "momentum": 0.05, "adagrad": 0.1, "rmsprop": 0.01, "lars": 1.0}.get(optim, 0.05)
    members = fold_members(blobs(), mcfg(5, 4), tcfg(optim, lr=lr, epochs=3, batch_size=8), k=3)
    got = fit_many(members)
    for g, w in zip(got, references(members)):
        assert_equal_runs(g, w)
        assert g.optim_state["state"].keys() == w.optim_state["state"].keys()
        for i, st in w.optim_state["state"].items():
            for key, value in st.items():
                np.testing.assert_allclose(np.asarray(g.optim_state["state"][i][key]), np.asarray(value),
                                           rtol=0, atol=TOL, err_msg=f"{optim} state {i} {key}")
    # the weights really moved, and differently per fold
    first = init_many(members)[0].model_state["net.0.weight"]
    assert not np.allclose(got[0].model_state["net.0.weight"], first)
    assert not np.allclose(got[0].model_state["net.0.weight"], got[1].model_state["net.0.weight"])


def test_unequal_fold_sizes_and_step_counts_are_masked_not_dropped():
    # 52 training rows, k=3 -> 34/35/35 training rows; batch 17 -> 2 or 3 steps per epoch
    members = fold_members(blobs(n=52), mcfg(6), tcfg("adam", epochs=3, batch_size=17), k=3)
    sizes = sorted(len(m.arrays.y_train) for m in members)
    assert sizes[0] < sizes[-1] and math.ceil(sizes[0] / 17) < math.ceil(sizes[-1] / 17)
    for g, w in zip(fit_many(members), references(members)):
        assert_equal_runs(g, w)


def test_different_widths_depths_batch_sizes_seeds_and_optimizers_in_one_job():
    a, b = blobs(seed=2), blobs(n=45, seed=3)
    members = [
        Member(a, mcfg(2, act="sigmoid"), tcfg("adam", seed=1)),
        Member(b, mcfg(9, act="sigmoid"), tcfg("adam", lr=0.02, batch_size=7, seed=2)),
        Member(a, mcfg(5, act="sigmoid"), tcfg("lars", lr=1.0, batch_size=10, seed=3)),
        Member(a, mcfg(3, 7), tcfg("momentum", lr=0.05, seed=4)),
        Member(b, mcfg(8, 2), tcfg("rmsprop", lr=0.01, epochs=2, seed=5)),
    ]
    for g, w in zip(fit_many(members), references(members)):
        assert_equal_runs(g, w)


def test_regression_penalties_dropout_and_a_logit_head():
    r, c = wave(), blobs()
    members = [
        Member(r, mcfg(6, act="relu", l2=0.01), tcfg("adam", epochs=3, batch_size=8)),
        Member(r, mcfg(6, act="relu", l1=0.005, loss="huber"), tcfg("sgd", lr=0.1, epochs=3, batch_size=8, seed=1)),
        Member(r, mcfg(6, act="relu", dropout=0.3, loss="mae"), tcfg("adamw", epochs=3, batch_size=8, seed=2)),
        Member(c, mcfg(4, 4, act="relu", dropout=0.5, binary_head="logit"), tcfg("adam", epochs=3, seed=3)),
        Member(c, mcfg(4, 4, act="relu", binary_head="logit", l2=0.02, l1=0.01), tcfg("adam", epochs=3, seed=4)),
    ]
    for g, w in zip(fit_many(members), references(members)):
        assert_equal_runs(g, w)
    # dropout really drew masks: the generator state moved
    assert not np.array_equal(fit_many(members[2:3])[0].rng_state, init_many(members[2:3])[0].rng_state)


def test_early_stopping_is_per_member():
    a = blobs()
    flipped = TrainArrays(a.X_train, a.y_train, a.X_val, 1 - a.y_val, a.task, 2)  # val loss rises
    members = [Member(a, mcfg(4), tcfg(lr=0.01, epochs=8, patience=3)),
               Member(flipped, mcfg(4), tcfg(lr=0.01, epochs=8, patience=3))]
    got = fit_many(members)
    want = references(members)
    assert [s.status for s in want] == ["done", "early_stopped"]
    for g, w in zip(got, want):
        assert_equal_runs(g, w)
    assert got[1].epoch < 8 == got[0].epoch


def test_divergence_stops_that_member_only():
    r = wave()
    members = [
        Member(r, mcfg(8, act="relu"), tcfg("sgd", lr=0.05, epochs=4, batch_size=8)),
        Member(r, mcfg(8, act="relu"), tcfg("sgd", lr=9.0, epochs=4, batch_size=8, seed=1)),
        Member(r, mcfg(8, act="relu"), tcfg("adam", epochs=4, batch_size=8, seed=2)),
    ]
    got, want = fit_many(members), references(members)
    assert [s.status for s in want] == ["done", "diverged", "done"]
    for g, w in zip(got, want):
        assert_equal_runs(g, w)
    assert got[1].diverged_epoch is not None and all(np.isfinite(v).all() for v in got[1].model_state.values())


def test_advance_many_is_resumable_and_matches_single_advance():
    members = fold_members(blobs(), mcfg(5), tcfg("adam", epochs=5, batch_size=8), k=2)
    members.append(Member(wave(), mcfg(4, dropout=0.2, act="relu"), tcfg("momentum", lr=0.05, epochs=5, batch_size=8)))
    states = init_many(members)
    two = advance_many(members, states, max_epochs=2)
    assert [s.epoch for s in two] == [2, 2, 2] and [s.status for s in two] == ["paused"] * 3
    assert [s.epoch for s in states] == [0, 0, 0]  # inputs untouched
    five = advance_many(members, two, max_epochs=3)
    for g, w in zip(five, fit_many(members)):
        assert_equal_runs(g, w)
    for g, w in zip(five, references(members)):
        assert_equal_runs(g, w)
    # a batched state continues in a single run (same optimizer-state format) and vice versa
    m = members[0]
    single = advance(m.arrays, m.model_cfg, m.train_cfg, two[0], max_epochs=3)
    assert_equal_runs(single, five[0])
    mixed = advance_many(members[:1], [advance(m.arrays, m.model_cfg, m.train_cfg, init_state(m.arrays, m.model_cfg,
                                                                                                 m.train_cfg), 2)], 3)
    assert_equal_runs(mixed[0], five[0])
    # finished members come back as they are
    again = advance_many(members, five, max_epochs=3)
    assert [s.status for s in again] == ["done"] * 3 and [s.epoch for s in again] == [5] * 3


def test_members_with_different_epochs_and_finished_members():
    a = blobs()
    members = [Member(a, mcfg(3), tcfg(epochs=2)), Member(a, mcfg(3), tcfg(epochs=4, seed=1))]
    got = fit_many(members)
    assert [s.epoch for s in got] == [2, 4] and [s.status for s in got] == ["done", "done"]
    for g, w in zip(got, references(members)):
        assert_equal_runs(g, w)
    done = advance_many(members, got, max_epochs=5)
    assert [s.status for s in done] == ["done", "done"]


def test_max_seconds_zero_runs_one_epoch_of_every_member():
    members = fold_members(blobs(), mcfg(3), tcfg(epochs=6), k=3)
    out = advance_many(members, init_many(members), max_epochs=6, max_seconds=0.0)
    assert [s.epoch for s in out] == [1, 1, 1] and {s.status for s in out} == {"paused"}


def test_results_load_and_predict_like_single_runs():
    members = fold_members(blobs(), mcfg(4), tcfg(epochs=2), k=2)
    state = fit_many(members)[0]
    model = load_model(members[0].model_cfg, members[0].arrays, state)
    probs = predict(model, members[0].arrays.X_val, Task.BINARY)
    ref = fit(members[0].arrays, members[0].model_cfg, members[0].train_cfg)
    np.testing.assert_allclose(probs, predict(load_model(members[0].model_cfg, members[0].arrays, ref),
                                              members[0].arrays.X_val, Task.BINARY), atol=TOL)
    assert probs.shape == (len(members[0].arrays.y_val), 2)


def test_mismatched_lengths_are_a_config_error():
    members = fold_members(blobs(), mcfg(3), tcfg(), k=2)
    with pytest.raises(ConfigError) as err:
        advance_many(members, init_many(members)[:1])
    assert err.value.key == "err.batched.lengths"


def test_padded_widths_equal_separate_fits_over_a_short_run():
    """``pad_widths=True, exact=False`` stacks different widths in one zero-padded group (the fast,
    rounding-only path); with the default ``exact=True`` such members run exactly (as singles)."""
    a = blobs()
    members = [Member(a, mcfg(w, act=act), tcfg(name, lr=lr, epochs=3, seed=i))
               for i, (w, act, name, lr) in enumerate([(2, "sigmoid", "adam", 0.05), (7, "sigmoid", "lars", 1.0),
                                                      (4, "sigmoid", "rmsprop", 0.01), (3, "sigmoid", "adam", 0.05)])]
    members.append(Member(a, mcfg(6, act="sigmoid", dropout=0.3, l2=0.01), tcfg("adam", epochs=3, seed=9)))
    want = references(members)
    for g, w in zip(fit_many(members, pad_widths=True, exact=False), want):
        assert_equal_runs(g, w)
    for g, w in zip(fit_many(members, pad_widths=True), want):
        assert_equal_runs(g, w, tol=0)


def test_lockstep_off_is_bit_for_bit_and_lockstep_unlocks_when_a_member_stops():
    a = blobs()
    flipped = TrainArrays(a.X_train, a.y_train, a.X_val, 1 - a.y_val, a.task, 2)
    members = [Member(d, mcfg(4), tcfg("rmsprop", lr=0.01, epochs=8, patience=p, seed=i))
               for i, (d, p) in enumerate([(a, None), (flipped, 3), (a, None)])]
    want = references(members)
    assert [s.status for s in want] == ["done", "early_stopped", "done"]
    for g, w in zip(fit_many(members), want):  # lockstep, split when member 2 stops
        assert_equal_runs(g, w)
    for g, w in zip(fit_many(members, lockstep=False), want):
        assert_equal_runs(g, w)
        for k in w.model_state:
            np.testing.assert_array_equal(g.model_state[k], w.model_state[k])


def test_padded_lockstep_sweep_resumes_and_unlocks():
    """A capacity sweep with ``pad_widths=True, exact=False``: one padded group sharing one optimizer."""
    a = blobs()
    flipped = TrainArrays(a.X_train, a.y_train, a.X_val, 1 - a.y_val, a.task, 2)
    members = [Member(d, mcfg(w, 3, act="sigmoid"), tcfg("adam", lr=0.02, epochs=6, patience=p))
               for w, d, p in [(2, a, None), (5, flipped, 2), (8, a, None)]]
    want = references(members)
    assert [s.status for s in want] == ["done", "early_stopped", "done"]
    two = advance_many(members, init_many(members), max_epochs=2, pad_widths=True, exact=False)
    got = advance_many(members, two, max_epochs=6, pad_widths=True, exact=False)
    for g, w in zip(got, want):
        assert_equal_runs(g, w)


def bootstrap_members(arrays: TrainArrays, m: int, cfg: ModelConfig, train: TrainConfig) -> list[Member]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(m):
        rows = rng.integers(0, len(arrays.y_train), len(arrays.y_train))
        sample = TrainArrays(arrays.X_train[rows], arrays.y_train[rows], arrays.X_val, arrays.y_val, arrays.task,
                             arrays.n_classes)
        out.append(Member(sample, cfg, TrainConfig(train.optim, train.batch_size, train.epochs, seed=i)))
    return out


def assert_bit_for_bit(got, want):
    for g, w in zip(got, want):
        for k in w.model_state:
            np.testing.assert_array_equal(g.model_state[k], w.model_state[k], err_msg=k)


def test_lockstep_optimizer_is_bit_for_bit_on_tensors_with_a_scalar_tail():
    """The shared (lockstep) optimizer of M = 20 members: the 2-entry output bias of each member is
    updated by the scalar tail of torch's fused Adam in its single run, and must be in the stack too
    (it used to sit in the SIMD body there: 1e-9 after one epoch, 4e-5 after 50)."""
    members = bootstrap_members(blobs(64, seed=3), 20, mcfg(16, 16, act="relu"), tcfg("adam", lr=0.01, epochs=3))
    assert_bit_for_bit(fit_many(members), references(members))


def test_bootstrap_m20_long_adam_run_equals_single_fits_to_1e5():
    """The bias-variance workload in small: M = 20 bootstrap resamples, 2-16-16-2, Adam, enough
    epochs for rounding differences to grow (the old lockstep optimizer drifted 2.9e-4 here)."""
    members = bootstrap_members(blobs(256, seed=5, n_val=40), 20, mcfg(16, 16, act="relu"),
                                tcfg("adam", lr=0.01, epochs=80, batch_size=32))
    for g, w in zip(fit_many(members), references(members)):
        assert_equal_runs(g, w)


def test_capacity_sweep_with_seeds_is_bit_for_bit_whatever_the_widths():
    """Seeds of one width share stacked weights only where batched matmuls round exactly as the
    single run's ``F.linear`` (not at every width): the result is each single run, bit for bit."""
    a = blobs(90, seed=7)
    members = [Member(a, mcfg(w, w, act="relu"), tcfg("adam", lr=0.01, epochs=6, batch_size=16, seed=s))
               for w in (6, 9, 14, 16) for s in range(3)]
    want = references(members)
    assert_bit_for_bit(fit_many(members), want)
    assert_bit_for_bit(fit_many(members, pad_widths=True), want)


def three_features(n=45, seed=11) -> TrainArrays:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + 15, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)
    return TrainArrays(X[:n], y[:n], X[n:], y[n:], Task.BINARY, 2)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "identity"])
def test_a_padded_sweep_of_distinct_widths_is_bit_for_bit(act):
    """One seed per width, ``pad_widths=True``: the widths share one looped group (each member's own
    matmuls, one autograd node, one optimizer); a partial last batch and 3 inputs (misaligned rows)
    included. Each member is its single run, bit for bit."""
    a = three_features()
    members = [Member(a, mcfg(w, w, act=act), tcfg("adam", lr=0.02, epochs=5, batch_size=10)) for w in (1, 3, 6, 9, 14)]
    assert_bit_for_bit(fit_many(members, pad_widths=True), references(members))


@pytest.mark.parametrize("data,head", [("wave", "logit"), ("blobs", "logit"), ("blobs", "softmax")])
def test_looped_group_regression_and_logit_heads_and_resuming(data, head):
    a = wave() if data == "wave" else blobs(50)
    members = [Member(a, mcfg(w, act="tanh", binary_head=head), tcfg("rmsprop", lr=0.01, epochs=6, batch_size=12, seed=w))
               for w in (2, 5, 7)]
    want = references(members)
    two = advance_many(members, init_many(members), max_epochs=2, pad_widths=True)
    got = advance_many(members, two, max_epochs=6, pad_widths=True)
    assert_bit_for_bit(got, want)
    for g, w in zip(got, want):
        assert_equal_runs(g, w)


@pytest.mark.parametrize("widths", [(8, 8, 8), (3, 6, 9)])
@pytest.mark.parametrize("optim", ["adam", "adamw"])
def test_lockstep_adam_unlocks_exactly_when_a_member_stops_early(widths, optim):
    """The lockstep fused-Adam fast path (one shared step counter) splits back into per-member
    state when a member early-stops; the others go on exactly as their single runs."""
    a = blobs()
    flipped = TrainArrays(a.X_train, a.y_train, a.X_val, 1 - a.y_val, a.task, 2)
    members = [Member(d, mcfg(w, act="relu"), tcfg(optim, lr=0.02, epochs=8, patience=p, seed=i))
               for i, (w, d, p) in enumerate(zip(widths, (a, flipped, a), (None, 2, None)))]
    want = references(members)
    assert [s.status for s in want] == ["done", "early_stopped", "done"]
    got = fit_many(members, pad_widths=True)
    assert_bit_for_bit(got, want)
    for g, w in zip(got, want):
        assert_equal_runs(g, w)
        for i, st in w.optim_state["state"].items():  # own step counters and moments
            for key, value in st.items():
                np.testing.assert_array_equal(np.asarray(g.optim_state["state"][i][key]), np.asarray(value))


def test_looped_group_edge_shapes_width_one_one_row_batches_multiclass_and_regression_losses():
    """Width 1 and a last mini-batch of ONE row (the column-major case of autograd's matmul
    backward), three classes, one input, depth 3, and the MAE / Huber regression losses."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(56, 1)).astype(np.float32)
    y3 = np.digitize(X[:, 0], [-0.4, 0.4]).astype(np.int64)
    multi = TrainArrays(X[:41], y3[:41], X[41:], y3[41:], Task.MULTICLASS, 3)
    members = [Member(multi, mcfg(w, w, act="tanh"), tcfg("adam", lr=0.02, epochs=4, batch_size=10, seed=w))
               for w in (1, 2, 5)]
    assert_bit_for_bit(fit_many(members, pad_widths=True), references(members))
    yr = (np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=56)).astype(np.float32)
    reg = TrainArrays(X[:41], yr[:41], X[41:], yr[41:], Task.REGRESSION, 0)
    for loss in ("mae", "huber"):
        members = [Member(reg, mcfg(w, w, w, act="relu", loss=loss), tcfg("sgd", lr=0.05, epochs=4, batch_size=10))
                   for w in (1, 3, 4)]
        assert_bit_for_bit(fit_many(members, pad_widths=True), references(members))


def test_looped_cross_entropy_group_with_unequal_rows_and_a_diverging_member():
    """The looped group's hand-made cross-entropy backward when members have different row and
    step counts (nested subsets: some members sit out the last steps) and one member diverges."""
    a = blobs(50, seed=8)
    subsets = [np.arange(n) for n in (20, 35, 50)]
    arrays = [TrainArrays(a.X_train[r], a.y_train[r], a.X_val, a.y_val, a.task, 2) for r in subsets]
    members = [Member(d, mcfg(w, act="identity"), tcfg("sgd", lr=0.05, epochs=5, batch_size=16, seed=w))
               for d, w in zip(arrays, (2, 5, 7))]
    members.append(Member(arrays[2], mcfg(3, act="identity"), tcfg("sgd", lr=10.0, epochs=5, batch_size=16, seed=3)))
    want = references(members)
    assert [s.status for s in want] == ["done", "done", "done", "diverged"]
    got = fit_many(members, pad_widths=True)
    assert_bit_for_bit(got, want)  # weights; the recorded losses are sums in another order
    for g, w in zip(got[:3], want[:3]):
        assert_equal_runs(g, w)
    g, w = got[3], want[3]  # its last losses are about 1e12: equal to rounding, relatively
    assert (g.status, g.epoch, g.diverged_epoch, g.diverged_step) == (w.status, w.epoch, w.diverged_epoch,
                                                                      w.diverged_step)
    assert [h.train_loss for h in g.history] == pytest.approx([h.train_loss for h in w.history], rel=1e-6)

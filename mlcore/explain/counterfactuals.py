"""Counterfactual explanations: the smallest changes to one row that give the outcome wanted.

Hand-written on purpose: DiCE (the usual package) would add about 700 MB of dependencies for one
page, and its PyTorch gradient method fails on softmax models.

The search (in the spirit of Wachter et al. 2017 and DiCE, Mothilal et al. 2020):

1. **Gradient search.** ``k`` candidates move together from the instance with Adam, minimising
   a hinge loss towards the target (class margin, or distance to the wanted range for regression),
   plus a *proximity* term (L1 distance in training standard deviations, which also makes the
   change *sparse*) and a *diversity* term (``exp(-distance)`` between candidates). Frozen
   features do not move; numeric features stay inside their permitted ranges; a categorical
   feature is a softmax over its one-hot columns.
   Then the search runs again with each candidate free to move only the 3 (then 6, 10)
   features the first run moved most, for sparser and more varied candidates.
2. **Projection.** Categorical features become a valid one-hot row (argmax), integer-valued
   features are rounded in original units, ranges are enforced. Then each candidate is made
   sparser: changed features are put back one by one, smallest change first, while it stays valid.
3. **Random fallback** (model-agnostic) when fewer than ``k`` valid candidates remain: random
   rows that change a random subset of the free features inside their ranges, each pulled back
   towards the instance by bisection, and a greedy choice of near and mutually distant ones.

Every returned counterfactual has been checked on the model. When none is found, the result
says which constraint to relax (it tries the search again without frozen features, then with
wider ranges).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

MAX_REVERTS = 16  # changes tried one by one for putting back (the smallest ones)

__all__ = ["Target", "Constraint", "Counterfactual", "CounterfactualResult", "find_counterfactuals",
           "default_constraints"]


@dataclass(frozen=True)
class Target:
    """The outcome wanted: a class index, or a range ``[low, high]`` of the predicted value."""

    cls: int | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Constraint:
    """Whether a raw feature may change, and its permitted range in original units (numeric)."""

    mutable: bool = True
    low: float | None = None
    high: float | None = None


@dataclass
class Counterfactual:
    x: np.ndarray  # model-space row
    changes: list[tuple[str, object, object]]  # (feature, before, after) in original units
    prediction: float  # class index or predicted value
    score: float  # probability of the target class (classification) or the value
    valid: bool
    proximity: float  # L1 distance in training standard deviations (categorical change = 1)
    sparsity: int  # number of features changed


@dataclass
class CounterfactualResult:
    items: list[Counterfactual]
    method: str  # "gradient" | "gradient+random" | "random" | "none"
    hint: str | None = None  # i18n key of the constraint to relax when none was found
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.items)


def default_constraints(layout) -> dict[str, Constraint]:
    return {f.name: Constraint(True, None if f.is_categorical else f.low, None if f.is_categorical else f.high)
            for f in layout.features}


# ---------------------------------------------------------------------------------------------


class _Space:
    """Constraints in model space: which columns move, their bounds, integer columns."""

    def __init__(self, layout, constraints, x0, stds):
        self.layout = layout
        d = layout.n_columns
        self.x0 = np.asarray(x0, dtype=np.float64)
        self.lo = np.full(d, -np.inf)
        self.hi = np.full(d, np.inf)
        self.free = np.zeros(d, dtype=bool)
        self.numeric_free: list = []
        self.cat_free: list = []
        self.stds = np.where(np.asarray(stds) > 1e-12, np.asarray(stds, dtype=np.float64), 1.0)
        for f in layout.features:
            c = constraints.get(f.name, Constraint())
            if not c.mutable:
                continue
            cols = list(f.columns)
            self.free[cols] = True
            if f.is_categorical:
                self.cat_free.append(f)
            else:
                lo = f.low if c.low is None else c.low
                hi = f.high if c.high is None else c.high
                lo, hi = min(lo, hi), max(lo, hi)
                j = cols[0]
                self.lo[j], self.hi[j] = layout.numeric_to_model(f, lo), layout.numeric_to_model(f, hi)
                if f.scale < 0:
                    self.lo[j], self.hi[j] = self.hi[j], self.lo[j]
                self.numeric_free.append(f)

    def project(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64)
        X[:, ~self.free] = self.x0[~self.free]
        for f in self.numeric_free:
            j = f.columns[0]
            v = np.clip(X[:, j], self.lo[j], self.hi[j])
            if f.integer:
                orig = np.round(v * f.scale + f.mean)
                lo_o, hi_o = sorted((self.lo[j] * f.scale + f.mean, self.hi[j] * f.scale + f.mean))
                orig = np.clip(orig, np.ceil(lo_o - 1e-9), np.floor(hi_o + 1e-9))
                v = (orig - f.mean) / f.scale
            X[:, j] = v
        for f in self.cat_free:
            cols = list(f.columns)
            block = X[:, cols]
            onehot = np.zeros_like(block)
            onehot[np.arange(len(X)), block.argmax(axis=1)] = 1.0
            X[:, cols] = onehot
        return X

    def changed(self, x: np.ndarray) -> list:
        out = []
        for f in self.layout.features:
            cols = list(f.columns)
            if np.any(np.abs(x[cols] - self.x0[cols]) > 1e-9):
                out.append(f)
        return out

    def proximity(self, x: np.ndarray) -> float:
        total = 0.0
        for f in self.changed(x):
            if f.is_categorical:
                total += 1.0
            else:
                j = f.columns[0]
                total += abs(x[j] - self.x0[j]) / self.stds[j]
        return float(total)


class _Model:
    def __init__(self, model, task, n_outputs, target):
        import torch

        from mlcore.config import Task

        self.model = model.float().eval()
        self.task = Task(task)
        self.n_outputs = n_outputs
        self.target = target
        self.torch = torch

    def raw(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.as_tensor(np.asarray(X), dtype=self.torch.float32)).numpy().astype(np.float64)

    def predict(self, X):
        """(prediction, score) per row: class index and target-class probability, or the value."""
        z = self.raw(X)
        if self.task.value == "regression":
            return z[:, 0], z[:, 0]
        if self.n_outputs == 1:
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            probs = np.stack([1 - p1, p1], axis=1)
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
        return probs.argmax(axis=1).astype(np.float64), probs[:, self.target.cls]

    def valid(self, X):
        pred, _ = self.predict(X)
        t = self.target
        if self.task.value == "regression":
            lo = -np.inf if t.low is None else t.low
            hi = np.inf if t.high is None else t.high
            return (pred >= lo) & (pred <= hi)
        return pred == t.cls

    def loss(self, z):
        torch = self.torch
        t = self.target
        if self.task.value == "regression":
            f = z[:, 0]
            lo = -float("inf") if t.low is None else t.low
            hi = float("inf") if t.high is None else t.high
            width = (hi - lo) if np.isfinite(hi - lo) else 1.0
            margin = 0.05 * width
            return torch.relu(lo + margin - f) + torch.relu(f - (hi - margin))
        if self.n_outputs == 1:
            s = z[:, 0] if t.cls == 1 else -z[:, 0]
            return torch.relu(1.0 - s)
        others = z.clone()
        others[:, t.cls] = -float("inf")
        return torch.relu(others.max(dim=1).values - z[:, t.cls] + 1.0)


def _gradient_search(m: _Model, space: _Space, k: int, steps: int, seed: int, lam_prox: float, lam_div: float,
                     masks: np.ndarray | None = None):
    torch = m.torch
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.as_tensor(space.x0, dtype=torch.float32)
    free = torch.as_tensor(space.free if masks is None else masks & space.free[None, :])
    lo = torch.as_tensor(np.where(np.isfinite(space.lo), space.lo, -1e6), dtype=torch.float32)
    hi = torch.as_tensor(np.where(np.isfinite(space.hi), space.hi, 1e6), dtype=torch.float32)
    stds = torch.as_tensor(space.stds, dtype=torch.float32)
    num_cols = torch.as_tensor([f.columns[0] for f in space.numeric_free], dtype=torch.long)
    noise = 0.3 * torch.randn((k, len(x0)), generator=gen) * stds
    delta = (noise * free).requires_grad_(True)
    cat_logits = [(list(f.columns), (4.0 * x0[list(f.columns)].repeat(k, 1)
                                     + torch.randn((k, len(f.columns)), generator=gen)).requires_grad_(True))
                  for f in space.cat_free]
    params = [delta] + [p for _, p in cat_logits]
    opt = torch.optim.Adam(params, lr=0.1)
    for _ in range(steps):
        x = x0 + delta * free
        if len(num_cols):
            x = x.clone()
            x[:, num_cols] = torch.maximum(torch.minimum(x[:, num_cols], hi[num_cols]), lo[num_cols])
        for cols, logits in cat_logits:
            x = x.clone()
            x[:, cols] = torch.where(free[..., cols], torch.softmax(logits, dim=1), x0[cols])
        z = m.model(x)
        target = m.loss(z)
        dist = ((x - x0).abs() / stds).sum(dim=1)
        loss = target.sum() + lam_prox * dist.sum()
        if k > 1 and lam_div > 0:
            pair = ((x[:, None, :] - x[None, :, :]).abs() / stds).sum(-1)
            iu = torch.triu_indices(k, k, 1)
            loss = loss + lam_div * torch.exp(-pair[iu[0], iu[1]]).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x = x0 + delta * free
        for cols, logits in cat_logits:
            x[:, cols] = torch.where(free[..., cols], torch.softmax(logits, dim=1), x0[cols])
    return x.numpy().astype(np.float64)


def _sparsify(m: _Model, space: _Space, x: np.ndarray) -> np.ndarray:
    """Fewer changes: keep only the largest changes that still give the target (the shortest
    prefix of the changes sorted by size, all prefixes tried in one batch), then put back any
    remaining change that is not needed."""
    x = x.copy()
    changed = space.changed(x)
    if len(changed) > 1:
        by_size = sorted(changed, key=lambda f: -space.proximity(_only(space, x, f)))
        prefixes = np.repeat(space.x0[None, :], len(by_size), axis=0)
        for i in range(len(by_size)):
            for f in by_size[:i + 1]:
                prefixes[i, list(f.columns)] = x[list(f.columns)]
        ok = np.flatnonzero(m.valid(prefixes))
        if len(ok):
            x = prefixes[ok[0]]
            changed = space.changed(x)
    sizes = [(space.proximity(_only(space, x, f)), f) for f in changed]
    for _, f in sorted(sizes, key=lambda t: t[0])[:MAX_REVERTS]:
        trial = x.copy()
        trial[list(f.columns)] = space.x0[list(f.columns)]
        if m.valid(trial[None, :])[0]:
            x = trial
    return x


def _only(space, x, f):
    y = space.x0.copy()
    y[list(f.columns)] = x[list(f.columns)]
    return y


def _pull_back(m: _Model, space: _Space, x: np.ndarray, iters: int = 12) -> np.ndarray:
    """Bisection on the segment from the instance to ``x`` (valid): the nearest valid projected point."""
    lo_t, hi_t = 0.0, 1.0
    best = x
    for _ in range(iters):
        mid = 0.5 * (lo_t + hi_t)
        cand = space.project((space.x0 + mid * (x - space.x0))[None, :])[0]
        if m.valid(cand[None, :])[0]:
            hi_t, best = mid, cand
        else:
            lo_t = mid
    return best


def _random_candidates(m: _Model, space: _Space, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    feats = space.numeric_free + space.cat_free
    if not feats:
        return np.zeros((0, len(space.x0)))
    X = np.repeat(space.x0[None, :], n, axis=0)
    for i in range(n):
        size = rng.integers(1, len(feats) + 1)
        for idx in rng.choice(len(feats), size=size, replace=False):
            f = feats[idx]
            cols = list(f.columns)
            if f.is_categorical:
                X[i, cols] = 0.0
                X[i, cols[rng.integers(len(cols))]] = 1.0
            else:
                j = cols[0]
                lo = space.lo[j] if np.isfinite(space.lo[j]) else space.x0[j] - 3 * space.stds[j]
                hi = space.hi[j] if np.isfinite(space.hi[j]) else space.x0[j] + 3 * space.stds[j]
                X[i, j] = rng.uniform(lo, hi)
    X = space.project(X)
    return X[m.valid(X)]


def _pick_diverse(space: _Space, cands: list[np.ndarray], k: int) -> list[np.ndarray]:
    """Greedy: the cheapest first (near, few changes), then the one that best trades that cost
    against distance to those already chosen."""
    def cost(c):  # proximity, with each changed feature counting half a standard deviation more
        return space.proximity(c) + 0.5 * len(space.changed(c))

    unique: list[np.ndarray] = []
    for c in sorted(cands, key=cost):
        if space.changed(c) and all(np.abs(c - u).max() > 1e-6 for u in unique):
            unique.append(c)
    if not unique:
        return []
    chosen = [unique[0]]
    rest = unique[1:]
    while rest and len(chosen) < k:
        def gain(c):
            div = min((np.abs(c - s) / space.stds).sum() for s in chosen)
            return div - 0.5 * cost(c)
        best = max(rest, key=gain)
        chosen.append(best)
        rest = [c for c in rest if c is not best]
    return chosen


def _restricted_searches(m, space, raw, k, seed, steps, time_limit, start) -> list[np.ndarray]:
    """Sparser candidates: the gradient search again, each candidate free to move only a few of
    the features that the first search moved most (3, then 6, then 10 of them; candidate ``i``
    starts its subset ``i`` places down the ranking, which also makes them more diverse)."""
    feats = space.numeric_free + space.cat_free
    if len(feats) <= 3:
        return []
    moved = np.abs(raw - space.x0[None, :]) / space.stds[None, :]
    score = {f.name: float(moved[:, list(f.columns)].sum(axis=1).max()) for f in feats}
    ranked = sorted(feats, key=lambda f: -score[f.name])
    out: list[np.ndarray] = []
    for size in (3, 6, 10):
        if size >= len(ranked) or time.perf_counter() - start > 0.5 * time_limit:
            break
        shifts = range(min(k, len(ranked) - size + 1))
        masks = np.zeros((len(shifts), len(space.x0)), dtype=bool)
        for i in shifts:
            for f in ranked[i:i + size]:
                masks[i, list(f.columns)] = True
        proj = space.project(_gradient_search(m, space, len(masks), steps, seed + size, lam_prox=0.3, lam_div=0.0,
                                              masks=masks))
        ok = m.valid(proj)
        out += [_sparsify(m, space, proj[i]) for i in range(len(proj)) if ok[i]]
        if len(out) >= k:
            break
    return out


def _search(m, space, k, seed, steps, time_limit, start):
    pool: list[np.ndarray] = []
    method = "none"
    if space.free.any():
        raw = _gradient_search(m, space, k, steps, seed, lam_prox=0.3, lam_div=0.5)
        proj = space.project(raw)
        ok = m.valid(proj)
        pool = [_sparsify(m, space, proj[i]) for i in range(len(proj)) if ok[i]]
        pool += _restricted_searches(m, space, raw, k, seed, steps, time_limit, start)
        method = "gradient" if pool else "none"
        distinct = _pick_diverse(space, pool, k)
        if len(distinct) < k and time.perf_counter() - start < time_limit:
            found = _random_candidates(m, space, 600, seed + 1)
            extra = []
            for n, c in enumerate(found[:60]):
                if n >= 3 * k and time.perf_counter() - start > time_limit:
                    break
                extra.append(_sparsify(m, space, _pull_back(m, space, c)))
            if extra:
                method = "gradient+random" if pool else "random"
            pool = pool + extra
        return _pick_diverse(space, pool, k), method
    return [], method


def find_counterfactuals(model, layout, x0: np.ndarray, target: Target, task, n_outputs: int,
                         constraints: dict[str, Constraint] | None = None, *, stds: np.ndarray | None = None,
                         k: int = 3, seed: int = 0, steps: int = 250, time_limit: float = 1.5) -> CounterfactualResult:
    """Up to ``k`` diverse, valid counterfactuals for the model-space row ``x0`` (see module doc).

    ``stds``: training standard deviation of each model column (the unit of proximity)."""
    start = time.perf_counter()
    constraints = constraints if constraints is not None else default_constraints(layout)
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    stds = np.ones_like(x0) if stds is None else np.asarray(stds, dtype=np.float64)
    m = _Model(model, task, n_outputs, target)
    space = _Space(layout, constraints, x0, stds)
    chosen, method = _search(m, space, k, seed, steps, time_limit, start)
    hint = None
    if not chosen:
        hint = _which_constraint(m, layout, constraints, x0, stds, seed)
    items = [_describe(m, space, layout, c) for c in chosen]
    return CounterfactualResult(items, method if items else "none", hint, time.perf_counter() - start)


def _which_constraint(m, layout, constraints, x0, stds, seed) -> str:
    none_frozen = {n: Constraint(True, c.low, c.high) for n, c in constraints.items()}
    if any(not c.mutable for c in constraints.values()):
        if len(_random_candidates(m, _Space(layout, none_frozen, x0, stds), 400, seed + 7)):
            return "explain.cf.hint.frozen"
    wide = {}
    for f in layout.features:
        c = constraints.get(f.name, Constraint())
        if f.is_categorical:
            wide[f.name] = c
        else:
            span = max(f.high - f.low, 1e-9)
            wide[f.name] = Constraint(c.mutable, f.low - 0.5 * span, f.high + 0.5 * span)
    if len(_random_candidates(m, _Space(layout, wide, x0, stds), 400, seed + 11)):
        return "explain.cf.hint.ranges"
    return "explain.cf.hint.target"


def _describe(m: _Model, space: _Space, layout, x: np.ndarray) -> Counterfactual:
    before = layout.to_original(space.x0[None, :]).iloc[0]
    after = layout.to_original(x[None, :]).iloc[0]
    changes = [(f.name, before[f.name], after[f.name]) for f in space.changed(x)]
    pred, score = m.predict(x[None, :])
    return Counterfactual(x=x, changes=changes, prediction=float(pred[0]), score=float(score[0]),
                          valid=bool(m.valid(x[None, :])[0]), proximity=space.proximity(x),
                          sparsity=len(changes))

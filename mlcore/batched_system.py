"""The batched training engine behind :mod:`mlcore.batched`: M small MLPs in ONE LightningModule.

Hand-written on purpose: neither torch nor Lightning trains many *independent* models of different
widths, data sets and mini-batch schedules as one model while keeping each model's result equal to
training it alone (``torch.func.vmap`` needs equal shapes and one shared optimizer state, and it
cannot give LARS its per-tensor norms). The design, in short:

- **Parameters stay per member.** Each member is a real :class:`mlcore.model.MLP` whose tensors are
  leaves, initialised and loaded exactly as :mod:`mlcore.train` does. ONE optimizer per optimizer
  kind (``mlcore.optim.make_optimizer``; one param group per distinct ``OptimConfig``) holds all
  members' tensors, so its per-tensor state (Adam's moments and step counter, LARS's layer norms
  and trust ratios) is each member's own. A member with no mini-batch at a step (finished,
  early-stopped, diverged, or with fewer rows) gets ``grad = None`` and torch skips it.
- **Forward as batched matmuls.** Members with the same structure (inputs, outputs, depth,
  activations, loss) form a group. Each step, the group's parameters are concatenated into one flat
  tensor (one ``torch.cat``; views of the leaves, so gradients flow back to each leaf), laid out as
  stacked ``(G, out, in)`` weight blocks - through one ``index_select`` into zero-padded blocks when
  the members' widths differ (padded units have zero weights in and out, so they change nothing) -
  and every layer is one ``torch.baddbmm`` for the whole group.
- **Per-member mini-batches.** Each member's rows are shuffled exactly as in ``train._EpochBatches``
  (``torch.Generator().manual_seed(seed * 100003 + epoch)`` over its own rows) and cut into its own
  ``batch_size``; the group's step ``s`` stacks every member's ``s``-th mini-batch, zero-padded to
  the largest one. Padded rows are masked out of each member's mean loss (folds and bootstrap
  samples of unequal size are masked, never truncated).
- **Loss = sum over members of each member's own objective** (mean data loss + its own L2/L1
  penalty), so one ``backward`` gives every member exactly its own gradient.
- **Dropout** masks are drawn per member, from a ``torch.Generator`` restored from that member's
  ``TrainState.rng_state``, with the very call ``nn.Dropout`` makes on the CPU
  (``empty(rows, units).bernoulli_(1 - p)`` then ``div_(1 - p)``) and in the same order (layer by
  layer, step by step), so the masks equal a single run's.
- **Lightning's fixed cost is paid once per call**: one ``Trainer.fit`` for the whole job, one
  Lightning batch per epoch (the lean style of :mod:`mlcore.train`); validation is one forward
  pass per group at the end of each epoch; early stopping and divergence are per member.

- **Lockstep groups** (same element-wise optimizer config, same steps per epoch): ONE optimizer
  over the stacked blocks instead of 2 * depth * M member tensors (torch's optimizers cost a few
  microseconds of Python per tensor and step, the largest cost for M = 20); split back into
  per-member state as soon as a member stops or skips a step.

**Exactness.** Each member's result is meant to be its single run's bit for bit (the benchmark jobs
and ``tests/unit/test_batched.py`` check it). Two places were measured to round differently when
stacked, and are handled:

- *The optimizer.* torch's CPU optimizer kernels update a tensor in SIMD chunks plus a scalar tail
  that rounds differently (fused Adam: ``Vectorized`` arithmetic in float in the body, double
  scalars in the tail). A member's 2-entry output bias is all tail in its single run, but sat in
  the SIMD body of a 40-entry stacked tensor: 1e-9 per step, 4e-5 after 50 Adam epochs of the
  M = 20 bias-variance benchmark. So a block is stacked for the shared optimizer only when every
  member's tensor is a whole number of SIMD chunks (``_simd_unit``); the other blocks enter the
  same optimizer as each member's own tensor (one tensor per member, not one per stack).
- *The matmuls.* ``torch.baddbmm`` rounds as ``F.linear`` for some shapes only (the 2-16-16-2 net:
  yes; widths 6, 9, 14, 30: no; zero-padded widths: almost never), and BLAS rounds differently on
  operands that are not 64-byte aligned. Stacked blocks start on 64-byte boundaries, and a group
  is stacked only where a probe of its layer shapes and mini-batch sizes (``_probe_layer``,
  cached) is bit-for-bit. The other members of a structure (different widths with
  ``pad_widths=True``, or widths whose stack does not round exactly) form ONE **looped group**
  (:class:`_Looped`): each member's layers are the very ``addmm`` calls of its single run on its
  own aligned tensors and rows, with the backward matmuls autograd would make, all inside one
  autograd node per step (for cross-entropy, no autograd at all: the loss's backward is done node
  by node with the very ATen backward ops autograd calls); loss, metrics and the optimizer stay
  shared. It costs a few kernel calls per member and step instead of a whole single run's graph
  and optimizer (``bench_evaluate``: a 10-width capacity sweep in one looped group about 2.3x one
  fit, against 9x for the ten single fits). Members with dropout or L1/L2 penalties run as singles
  (or stacks, where exact).
- *The loss.* A logit head's BCE is computed per member (its ``exp``/``log1p`` kernels round by
  position in the tensor); cross-entropy and the regression losses are stacked.

``exact=False`` skips the probe (``pad_widths=True`` then stacks every width in one padded
``baddbmm`` group): equal to the single runs only up to float rounding that Adam amplifies over
long runs (``bench/bench_evaluate.py`` prints both).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mlcore.config import Task
from mlcore.model import MLP, loss_name, make_activation
from mlcore.optim import _group_values, make_optimizer
from mlcore.train import (EpochRecord, OneBatch, fit_lean, lean_trainer, TrainState, _load_weights, _optim_to_torch, _read_only_tensor,
                          state_to_numpy)

__all__ = ["BatchedMLPSystem", "run"]


# Entries per SIMD chunk of torch's CPU optimizer kernels: the fused kernels (SGD, AdaGrad, Adam,
# AdamW) step a tensor one ``Vectorized<float>`` at a time (8 floats with AVX2, 16 with AVX-512) and
# finish with a scalar loop that rounds differently (measured: up to 2e-7 per step on a 2-entry
# bias); the foreach ops (RMSprop) go through TensorIterator, two vectors per iteration.
_FUSED_UNIT, _FOREACH_UNIT = 16, 32
_ALIGN = 16  # floats: 64 bytes, the CPU allocator's alignment (BLAS rounds by operand alignment)


def _simd_unit(optim_name: str) -> int:
    """Entry count of which each member's tensor must be a multiple to share a stacked optimizer
    tensor and still be updated exactly as in its single run (see ``_Group.lockstep_tensors``)."""
    return _FOREACH_UNIT if optim_name == "rmsprop" else _FUSED_UNIT


@dataclass(eq=False)
class _Slot:
    """One member's runtime record for one call."""

    member: object  # mlcore.batched.Member
    state: TrainState
    n_epochs: int  # epochs this call may run for this member
    model: MLP
    params: list  # [W1, b1, W2, b2, ...] in layer order (= model.parameters())
    weights: list  # [W1, W2, ...] for the penalties
    steps: int  # mini-batches per epoch
    n_train: int
    gen: torch.Generator | None  # dropout masks
    # progress during the call
    records: list = field(default_factory=list)
    best: float = math.inf
    bad: int = 0
    status: str | None = None
    diverged: tuple[int, int] | None = None
    rng: np.ndarray | None = None
    saved: list | None = None
    stopped: bool = False  # no more epochs in this call
    alive: bool = False  # trains in the current epoch
    group: object = None  # its _Group

    @property
    def cfg(self):
        return self.member.train_cfg

    @property
    def mcfg(self):
        return self.member.model_cfg


class _Group:
    """Members of one structure, trained as stacked ``(G, out, in)`` blocks."""

    def __init__(self, slots: list[_Slot]) -> None:
        self.slots = slots
        first = slots[0]
        arrays = first.member.arrays
        self.task = Task(arrays.task)
        self.n_in = arrays.n_features
        self.n_out = first.model.n_outputs
        self.loss_kind = loss_name(self.task, first.mcfg, self.n_out)
        self.acts = [make_activation(spec.activation) for spec in first.mcfg.hidden]
        G = len(slots)
        widths = [[lin.out_features for lin in s.model.linears] for s in slots]
        self.widths = [max(col) for col in zip(*widths)]  # padded width of each layer's output
        self.pad = any(w != self.widths for w in widths)
        self.dropout = [s.mcfg.dropout for s in slots]
        self.has_dropout = any(p > 0 for p in self.dropout)
        self.shapes = []  # per layer: (out, in), padded
        fan_in = self.n_in
        for w in self.widths:
            self.shapes.append((w, fan_in))
            fan_in = w
        self._share_parameters()
        l2 = [s.mcfg.l2 for s in slots]
        l1 = [s.mcfg.l1 for s in slots]
        self.l2 = torch.tensor(l2) if any(v > 0 for v in l2) else None
        self.l1 = torch.tensor(l1) if any(v > 0 for v in l1) else None
        self._prepare_data()

    def _share_parameters(self) -> None:
        """Move every member's tensors into one flat buffer ``self.flat`` (layer-major: ``W_l`` of
        each member, then ``b_l`` of each member), as contiguous leaf Parameters that alias it.

        The forward pass reads one leaf per stacked block (``(G, out, in)`` weights, ``(G, 1, out)``
        biases): the very same storage when the widths are equal (the member blocks then ARE the
        stacked blocks), else a zero-padded copy refreshed by one ``index_copy_`` per block and
        forward. Gradients land in the blocks' ``.grad`` and reach each member as views (through one
        ``index_select`` per block when padded), attached only to members that step."""
        G = len(self.slots)
        n_blocks = 2 * len(self.shapes)
        sizes = [[s.params[j].numel() for s in self.slots] for j in range(n_blocks)]
        # each stacked block starts on a 64-byte boundary, as the probe's fresh tensors do
        total = sum(-(-sum(col) // _ALIGN) * _ALIGN for col in sizes)
        self.flat = torch.zeros(total)
        self.gbuf = torch.zeros(total) if self.pad else None
        self.blocks = []  # (leaf, section start, section end, padded index or None)
        new_params: list[list] = [[] for _ in self.slots]
        grad_src: list[list] = [[] for _ in self.slots]  # (block j, offset in section, shape)
        start = 0
        for j in range(n_blocks):
            o, i = self.shapes[j // 2]
            shape = (G, o, i) if j % 2 == 0 else (G, 1, o)
            off = start
            for g, s in enumerate(self.slots):
                p = s.params[j]
                view = self.flat[off:off + p.numel()].view(p.shape)
                view.copy_(p.detach())
                new_params[g].append(nn.Parameter(view))
                grad_src[g].append((j, off - start, tuple(p.shape)))
                off += p.numel()
            end = off
            if self.pad:
                index = self._pad_index(j, shape)
                leaf = torch.zeros(shape, requires_grad=True)
            else:
                index = None
                leaf = self.flat[start:end].detach().view(shape).requires_grad_(True)
            leaf.grad = torch.zeros_like(leaf)
            self.blocks.append((leaf, start, end, index))
            start = -(-end // _ALIGN) * _ALIGN
        for g, s in enumerate(self.slots):
            for li, lin in enumerate(s.model.linears):
                lin.weight, lin.bias = new_params[g][2 * li], new_params[g][2 * li + 1]
            s.params = new_params[g]
            s.weights = [lin.weight for lin in s.model.linears]
        self.grad_src = grad_src  # per member: (block, offset in the block's section, shape)
        self.grad_views = []
        for g in range(G):
            views = []
            for j, off, shape in grad_src[g]:
                leaf, a, b, _ = self.blocks[j]
                src = self.gbuf[a:b] if self.pad else leaf.grad.view(-1)
                views.append(src[off:off + math.prod(shape)].view(shape))
            self.grad_views.append(views)
        self.attached = [False] * G
        self.b = [self.blocks[2 * li + 1][0] for li in range(len(self.shapes))]
        self.W = [self.blocks[2 * li][0] for li in range(len(self.shapes))]

    def _pad_index(self, j: int, shape: tuple) -> torch.Tensor:
        """Position in the padded block ``j`` (flattened) of every entry of its real section."""
        _, o, i = shape
        parts = []
        for g, s in enumerate(self.slots):
            p = s.params[j]
            rows, cols = (p.shape[0], p.shape[1]) if p.ndim == 2 else (1, p.shape[0])
            parts.append((g * o * i + np.arange(rows)[:, None] * i + np.arange(cols)[None, :]).ravel())
        return torch.from_numpy(np.concatenate(parts).astype(np.int64))

    # ---- gradients ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Copy the members' current tensors into the padded forward blocks (no-op when unpadded)."""
        if self.pad:
            with torch.no_grad():
                for leaf, a, b, index in self.blocks:
                    leaf.view(-1).index_copy_(0, index, self.flat[a:b])

    def zero_grad(self) -> None:
        for leaf, _, _, _ in self.blocks:
            leaf.grad.zero_()

    def gather_grads(self) -> None:
        """Padded: the real entries of the blocks' gradients into ``gbuf`` (member layout)."""
        if self.pad:
            for leaf, a, b, index in self.blocks:
                torch.index_select(leaf.grad.view(-1), 0, index, out=self.gbuf[a:b])

    def lockstep_tensors(self, unit: int) -> list:
        """The tensors of a shared optimizer: per block, ONE tensor holding every member's entries
        of it (the forward block itself, or - padded - a leaf aliasing the members' flat section,
        whose gradient is the gathered ``gbuf`` section) when each member's tensor of that block has
        a multiple of ``unit`` entries; else each member's own tensor (its gradient attached as a
        view). Why: the CPU optimizer kernels update a tensor in SIMD chunks and a scalar tail that
        rounds differently, so a member's entry must sit in the same kind of chunk as in its single
        run; with whole chunks per member it does, wherever the member sits in the stack.
        Sets ``self.lock_kind``: per block, the stacked tensor or ``None`` (per member)."""
        out, kinds = [], []
        for j, (leaf, a, b, _) in enumerate(self.blocks):
            if all(s.params[j].numel() % unit == 0 for s in self.slots):
                if self.pad:
                    t = self.flat[a:b].detach().requires_grad_(True)
                    t.grad = self.gbuf[a:b]
                else:
                    t = leaf
                out.append(t)
                kinds.append(t)
                continue
            out.extend(s.params[j] for s in self.slots)
            kinds.append(None)
        self.lock_kind = kinds
        return out

    def lock_grads(self) -> None:
        """Attach the members' gradient views to the per-member tensors of a lockstep optimizer
        (once per epoch: Lightning clears parameter gradients before training starts)."""
        for j, t in enumerate(self.lock_kind):
            if t is None:
                for g, s in enumerate(self.slots):
                    s.params[j].grad = self.grad_views[g][j]

    def lock_parts(self, j: int) -> None:
        """Detach the per-member gradients a lockstep optimizer attached for block ``j``."""
        for s in self.slots:
            s.params[j].grad = None

    def member_part(self, j: int, g: int, v: torch.Tensor) -> torch.Tensor:
        """Member ``g``'s entries (a view, shaped as its tensor) of a lockstep tensor of block ``j``."""
        _, off, shape = self.grad_src[g][j]
        return v.reshape(-1)[off:off + math.prod(shape)].view(shape)

    def hand_out_grads(self, stepping: list[bool]) -> None:
        """Give each stepping member its gradient (views), and ``None`` to the others."""
        self.gather_grads()
        for g, s in enumerate(self.slots):
            if stepping[g] != self.attached[g]:
                for p, v in zip(s.params, self.grad_views[g]):
                    p.grad = v if stepping[g] else None
                self.attached[g] = stepping[g]

    def penalties(self) -> torch.Tensor | None:
        """Each member's ``l2 * sum(W**2) + l1 * sum(|W|)`` (as ``MLPSystem.penalty``), shape (G,)."""
        total = None
        if self.l2 is not None:
            total = self.l2 * sum(W.pow(2).sum((1, 2)) for W in self.W)
        if self.l1 is not None:
            l1 = self.l1 * sum(W.abs().sum((1, 2)) for W in self.W)
            total = l1 if total is None else total + l1
        return total

    def _prepare_data(self) -> None:
        """Per-call tensors: the padded step layout of the training rows and the padded validation set."""
        G = len(self.slots)
        self.S = max(s.steps for s in self.slots)
        self.B = max(min(s.cfg.batch_size, s.n_train) for s in self.slots)
        S, B = self.S, self.B
        regression = self.task is Task.REGRESSION
        ydtype = torch.float32 if regression else torch.int64
        self.X = torch.zeros(S * G * B, self.n_in)
        self.y = torch.zeros(S * G * B, dtype=ydtype)
        mask = np.zeros((S, G, B), dtype=bool)
        self.rows = np.zeros((S, G), dtype=np.int64)
        self.pos, self.train = [], []
        for g, s in enumerate(self.slots):
            a, bs = s.member.arrays, s.cfg.batch_size
            j = np.arange(s.n_train)
            self.pos.append(torch.from_numpy((j // bs) * G * B + g * B + j % bs))
            mask[j // bs, g, j % bs] = True
            self.rows[:, g] = mask[:, g].sum(1)
            self.train.append((_read_only_tensor(a.X_train), _read_only_tensor(a.y_train)))
        self.mask = torch.from_numpy(mask)
        self.full = mask.all(axis=(1, 2))  # per step: every member has a whole mini-batch
        self.rows_t = torch.from_numpy(np.maximum(self.rows, 1).astype(np.float32))
        V = max(len(s.member.arrays.y_val) for s in self.slots)
        self.Xv = torch.zeros(G, V, self.n_in)
        self.yv = torch.zeros(G, V, dtype=ydtype)
        maskv = torch.zeros(G, V, dtype=torch.bool)
        for g, s in enumerate(self.slots):
            a = s.member.arrays
            n = len(a.y_val)
            self.Xv[g, :n] = torch.from_numpy(a.X_val) if a.X_val.flags.writeable else _read_only_tensor(a.X_val)
            self.yv[g, :n] = _read_only_tensor(a.y_val)
            maskv[g, :n] = True
        self.maskv = maskv
        self.nv = [len(s.member.arrays.y_val) for s in self.slots]
        self.nv_t = torch.tensor(self.nv, dtype=torch.float32)

    # ---- per epoch / per step -----------------------------------------------------------------
    def load_epoch(self, active: list[bool]) -> None:
        """Shuffle each active member's rows for its next epoch into the step layout."""
        G, B = len(self.slots), self.B
        for g, s in enumerate(self.slots):
            if not active[g]:
                continue
            epoch = s.state.epoch + len(s.records) + 1
            gen = torch.Generator().manual_seed(s.cfg.seed * 100003 + epoch)
            perm = torch.randperm(s.n_train, generator=gen)
            X, y = self.train[g]
            self.X.index_copy_(0, self.pos[g], X.index_select(0, perm))
            self.y.index_copy_(0, self.pos[g], y.index_select(0, perm))
        self.Xs = self.X.view(self.S, G, B, self.n_in)
        self.ys = self.y.view(self.S, G, B)

    def batch(self, step: int) -> tuple:
        """``(x, y, mask, rows per member)`` of mini-batch ``step`` of every member."""
        self._rows_now = self.rows[step]
        self._full_now = bool(self.full[step])
        return self.Xs[step], self.ys[step], self.mask[step], self.rows_t[step]

    def val(self) -> tuple:
        self._rows_now = self.nv
        self._full_now = False
        return self.Xv, self.yv, self.maskv, self.nv_t

    def forward(self, x: torch.Tensor, noise: list | None = None) -> torch.Tensor:
        self.refresh()
        h = x
        for li, (b, W) in enumerate(zip(self.b, self.W)):
            h = torch.baddbmm(b, h, W.transpose(1, 2))
            if li < len(self.acts):
                h = self.acts[li](h)
                if noise is not None:
                    h = h * noise[li]
        return h

    def dropout_noise(self, s: int, part: list[bool]) -> list | None:
        """Per-layer ``(G, B, units)`` dropout multipliers, drawn as ``nn.Dropout`` draws them."""
        if not self.has_dropout:
            return None
        G, B = len(self.slots), self.B
        noise = [torch.ones(G, B, w) for w in self.widths[:-1]]
        for g, slot in enumerate(self.slots):
            p = self.dropout[g]
            if p <= 0 or not part[g]:
                continue
            rows = int(self.rows[s, g])
            for li, lin in enumerate(slot.model.linears[:-1]):
                n = torch.empty(rows, lin.out_features).bernoulli_(1 - p, generator=slot.gen)
                n.div_(1 - p)
                noise[li][g, :rows].zero_()
                noise[li][g, :rows, : lin.out_features] = n
        return noise

    def losses(self, out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        """Each member's mean data loss over its real rows: shape (G,)."""
        kind = self.loss_kind
        if kind == "ce":
            G, B, k = out.shape
            per_row = F.cross_entropy(out.reshape(G * B, k), y.reshape(G * B), reduction="none").view(G, B)
        else:
            o = out[..., 0]
            t = y.to(o.dtype)
            if kind == "bce":  # per member: its transcendental kernels round by position in the tensor
                return torch.stack([F.binary_cross_entropy_with_logits(o[g, :r], t[g, :r]) if r else o.new_zeros(())
                                    for g, r in enumerate(int(v) for v in self._rows_now)])
            if kind == "mse":
                per_row = F.mse_loss(o, t, reduction="none")
            elif kind == "mae":
                per_row = F.l1_loss(o, t, reduction="none")
            else:
                per_row = F.huber_loss(o, t, reduction="none")
        if self._full_now:  # every row real: the mask changes nothing
            return per_row.sum(1) / count
        return torch.where(mask, per_row, 0.0).sum(1) / count

    def hits(self, out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Metric sums per member: (G,) correct predictions, or (3, G) sse, sum y, sum y² (float64)."""
        if self.task is Task.REGRESSION:
            o, yd = out[..., 0].double(), y.double()
            sse = torch.where(mask, (o - yd).pow(2), 0.0).sum(1)
            yd = torch.where(mask, yd, 0.0)
            return torch.stack([sse, yd.sum(1), yd.pow(2).sum(1)])
        pred = (out[..., 0] > 0).long() if out.shape[-1] == 1 else out.argmax(-1)
        return ((pred == y) & mask).sum(1)

    def metric(self, sums, n: int) -> float:
        """Accuracy, or R² (as ``MLPSystem.epoch_metrics``) from this member's sums."""
        if self.task is Task.REGRESSION:
            sse, sy, syy = (float(v) for v in sums)
            sst = syy - sy ** 2 / n
            return 1.0 - sse / sst if sst > 0 else float("nan")
        return float(sums) / n


class _Single(_Group):
    """A structure with one member: exactly the computation of ``MLPSystem.training_step`` on the
    member's own leaves (``F.linear`` as ``nn.Linear``, the mean loss over its real rows), so a
    lone member of a sweep is bit-for-bit its single run."""

    def _share_parameters(self) -> None:
        s = self.slots[0]
        self.params = s.params
        self.lins = [(lin.weight, lin.bias) for lin in s.model.linears]
        self.attached = [True]

    def batch(self, step: int) -> tuple:
        rows = int(self.rows[step, 0])
        return self.Xs[step, :, :rows], self.ys[step, :, :rows], self.mask[step, :, :rows], None

    def val(self) -> tuple:
        return self.Xv, self.yv, self.maskv, None

    def forward(self, x: torch.Tensor, noise: list | None = None) -> torch.Tensor:
        h = x[0]
        last = len(self.lins) - 1
        for li, (W, b) in enumerate(self.lins):
            h = F.linear(h, W, b)
            if li < last:
                h = self.acts[li](h)
                if noise is not None:
                    h = h * noise[li][0]
        return h.unsqueeze(0)

    def dropout_noise(self, s: int, part: list[bool]) -> list | None:
        if not self.has_dropout or not part[0]:
            return None
        slot, p = self.slots[0], self.dropout[0]
        rows = int(self.rows[s, 0])
        noise = []
        for lin in slot.model.linears[:-1]:
            n = torch.empty(rows, lin.out_features).bernoulli_(1 - p, generator=slot.gen)
            noise.append(n.div_(1 - p).unsqueeze(0))
        return noise

    def losses(self, out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, count) -> torch.Tensor:
        o, t = out[0], y[0]
        kind = self.loss_kind
        if kind == "ce":
            return F.cross_entropy(o, t).view(1)
        o, t = o.squeeze(1), t.to(o.dtype)
        fn = {"bce": F.binary_cross_entropy_with_logits, "mse": F.mse_loss, "mae": F.l1_loss,
              "huber": F.huber_loss}[kind]
        return fn(o, t).view(1)

    def penalties(self) -> torch.Tensor | None:
        cfg, total = self.slots[0].mcfg, None
        weights = [W for W, _ in self.lins]
        if cfg.l2 > 0:
            total = cfg.l2 * sum(w.pow(2).sum() for w in weights)
        if cfg.l1 > 0:
            l1 = cfg.l1 * sum(w.abs().sum() for w in weights)
            total = l1 if total is None else total + l1
        return None if total is None else total.view(1)

    def refresh(self) -> None:
        pass

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def hand_out_grads(self, stepping: list[bool]) -> None:
        if not stepping[0]:
            for p in self.params:
                p.grad = None


_ACT_FWD = {
    "relu": lambda o: torch.relu(o),
    "tanh": lambda o: torch.tanh(o),
    "sigmoid": lambda o: torch.sigmoid(o),
    "identity": lambda o: o,
}
# each activation's backward as autograd computes it for the single run's ``nn`` module
_ACT_BWD = {
    "relu": lambda g, pre, post: torch.ops.aten.threshold_backward(g, post, 0),
    "tanh": lambda g, pre, post: torch.ops.aten.tanh_backward(g, post),
    "sigmoid": lambda g, pre, post: torch.ops.aten.sigmoid_backward(g, post),
    "identity": lambda g, pre, post: g,
}


def _aligned_like(t: torch.Tensor, offset: int) -> torch.Tensor:
    """``t`` (contiguous) as a tensor whose data sits ``offset`` floats past a 64-byte boundary,
    mod ``_ALIGN`` (a copy only when it does not already)."""
    if (t.data_ptr() // t.element_size()) % _ALIGN == offset % _ALIGN:
        return t
    buf = torch.empty(t.numel() + _ALIGN)
    k = offset % _ALIGN
    return buf[k:k + t.numel()].view(t.shape).copy_(t)


class _LoopedMLP(torch.autograd.Function):
    """The forward and backward of a :class:`_Looped` group as ONE autograd node."""

    @staticmethod
    def forward(ctx, anchor, x, grp):
        out, saved = grp.looped_forward(x)
        ctx.grp, ctx.saved = grp, saved
        return out

    @staticmethod
    def backward(ctx, grad_out):
        ctx.grp.looped_backward(grad_out, ctx.saved)
        return torch.zeros(1), None, None


class _Looped(_Group):
    """Members of one depth (any widths) whose stacked ``baddbmm`` would not round as their single
    runs: each member's layers are its single run's very calls (``torch.addmm`` on its own weights
    and rows, the activation, and in backward the matmuls autograd's ``AddmmBackward`` makes, written
    into the member's gradient views), looped inside ONE autograd node per step, while the loss,
    metrics, bookkeeping and the (lockstep) optimizer stay stacked. Bit-for-bit the single runs, and
    much cheaper per member than a single (no autograd graph, no optimizer of its own). Only for
    members without dropout or L1/L2 penalties and with an activation of ``_ACT_FWD``."""

    @staticmethod
    def eligible(slots: list[_Slot]) -> bool:
        return all(s.mcfg.dropout == 0 and s.mcfg.l1 == 0 and s.mcfg.l2 == 0
                   and all(spec.activation in _ACT_FWD for spec in s.mcfg.hidden) for s in slots)

    def _share_parameters(self) -> None:
        G = len(self.slots)
        n_blocks = 2 * len(self.shapes)
        A = _ALIGN

        def up(n: int) -> int:
            return -(-n // A) * A
        # every member tensor starts on a 64-byte boundary, as a freshly allocated one does:
        # BLAS kernels round differently on misaligned operands (measured on addmm / mm out=)
        total = sum(up(s.params[j].numel()) for j in range(n_blocks) for s in self.slots)
        self.flat = torch.zeros(total)
        self.gbuf = torch.zeros(total)
        self.pad = True  # gradients live in ``gbuf`` (member layout), as for a padded group
        self.blocks, self.grad_src = [], [[] for _ in self.slots]
        new_params: list[list] = [[] for _ in self.slots]
        start = 0
        for j in range(n_blocks):
            off = start
            for g, s in enumerate(self.slots):
                p = s.params[j]
                view = self.flat[off:off + p.numel()].view(p.shape)
                view.copy_(p.detach())
                new_params[g].append(nn.Parameter(view))
                self.grad_src[g].append((j, off - start, tuple(p.shape)))
                off += up(p.numel())
            self.blocks.append((None, start, off, None))
            start = off
        self.grad_views = []
        for g, s in enumerate(self.slots):
            for li, lin in enumerate(s.model.linears):
                lin.weight, lin.bias = new_params[g][2 * li], new_params[g][2 * li + 1]
            s.params = new_params[g]
            s.weights = [lin.weight for lin in s.model.linears]
            a = [self.blocks[j][1] for j in range(n_blocks)]
            self.grad_views.append([self.gbuf[a[j] + off:a[j] + off + math.prod(shape)].view(shape)
                                    for j, off, shape in self.grad_src[g]])
        self.attached = [False] * G
        # per member and layer: (W, W.t(), b, grad W, grad b as (1, out)) - views, made once
        self.lw = []
        for g, s in enumerate(self.slots):
            layers = []
            for li in range(len(self.shapes)):
                W, b = s.params[2 * li].detach(), s.params[2 * li + 1].detach()
                gW, gb = self.grad_views[g][2 * li], self.grad_views[g][2 * li + 1]
                layers.append((W, W.t(), b, gW, gb.view(1, -1)))
            self.lw.append(layers)
        self.act_names = [spec.activation for spec in self.slots[0].mcfg.hidden]
        self.act_fwd = [_ACT_FWD[a] for a in self.act_names]
        self.act_bwd = [_ACT_BWD[a] for a in self.act_names]
        self.anchor = torch.zeros(1, requires_grad=True)
        self._rows_now = self._x_offsets = None
        self._x_aligned = False

    def refresh(self) -> None:
        pass

    def zero_grad(self) -> None:
        pass  # every computed gradient is written (not added) into ``gbuf``

    def gather_grads(self) -> None:
        pass

    def penalties(self) -> torch.Tensor | None:
        return None

    def batch(self, step: int) -> tuple:
        self._x_offsets = [step * s.cfg.batch_size * self.n_in for s in self.slots]
        # the rows of every member start on a boundary here and in its single run: no check
        self._x_aligned = (self.B * self.n_in) % _ALIGN == 0 and all(
            (s.cfg.batch_size * self.n_in) % _ALIGN == 0 for s in self.slots)
        return super().batch(step)

    def val(self) -> tuple:
        self._x_offsets = [0] * len(self.slots)  # a whole fresh validation tensor
        self._x_aligned = False
        return super().val()

    def forward(self, x: torch.Tensor, noise: list | None = None) -> torch.Tensor:
        return _LoopedMLP.apply(self.anchor, x, self)

    @property
    def manual(self) -> bool:
        """Cross-entropy groups run their step without autograd (:meth:`manual_step`)."""
        return self.loss_kind == "ce"

    def manual_step(self, xb: torch.Tensor, yb: torch.Tensor, mb: torch.Tensor, count: torch.Tensor):
        """The forward and each member's mean cross-entropy without recording a graph: the very
        ops of :meth:`losses` (``F.cross_entropy`` is ``_log_softmax`` then ``nll_loss_forward``).
        Returns ``(out, loss (G,), context for manual_backward)``."""
        with torch.no_grad():
            out, saved = self.looped_forward(xb)
            G, R, k = out.shape
            logp = torch._log_softmax(out.reshape(G * R, k), 1, False)
            t = yb.reshape(G * R)
            per_row, total_weight = torch.ops.aten.nll_loss_forward(logp, t, None, 0, -100)
            per_row = per_row.view(G, R)
            full = self._full_now
            loss = (per_row.sum(1) if full else torch.where(mb, per_row, 0.0).sum(1)) / count
        return out, loss, (saved, logp, t, total_weight, mb, count, full)

    def manual_backward(self, ctx, part: list[bool]) -> None:
        """The gradient autograd would give the objective ``sum_g part_g * loss_g``, node by node
        (Div, Sum, Where, NllLoss, LogSoftmax backward), then :meth:`looped_backward`."""
        saved, logp, t, total_weight, mb, count, full = ctx
        G, R = mb.shape
        with torch.no_grad():
            scale = torch.ones(G) if all(part) else torch.tensor(part, dtype=torch.float32)
            g = (scale / count).unsqueeze(1).expand(G, R)
            if not full:
                g = torch.where(mb, g, 0.0)
            g = g.reshape(G * R)
            glogp = torch.ops.aten.nll_loss_backward(g, logp, t, None, 0, -100, total_weight)
            gout = torch.ops.aten._log_softmax_backward_data(glogp, logp, 1, torch.float32)
            self.looped_backward(gout.view(G, R, -1), saved)

    def looped_forward(self, x: torch.Tensor):
        G, R = x.shape[0], x.shape[1]
        rows = [int(v) for v in self._rows_now]
        full = all(r == R for r in rows)
        xs = x.unbind(0)
        last = len(self.shapes) - 1
        acts = self.act_fwd
        saved, outs = [], []
        for g in range(G):
            r = rows[g]
            if r == 0:
                saved.append(None)
                continue
            h = xs[g] if r == R else xs[g][:r]
            if self._x_offsets is not None and not self._x_aligned:  # the single run's mini-batch:
                h = _aligned_like(h, self._x_offsets[g])  # rows step * bs.. of X[perm]
            layers = []
            for li, (W, Wt, b, _gW, _gb) in enumerate(self.lw[g]):
                pre = torch.addmm(b, h, Wt)  # F.linear(h, W, b)
                post = acts[li](pre) if li < last else pre
                layers.append((h, pre, post))
                h = post
            outs.append(h)
            saved.append(layers)
        if full:
            return torch.stack(outs), saved
        out = x.new_zeros(G, R, self.n_out)
        k = 0
        for g, r in enumerate(rows):
            if r:
                out[g, :r] = outs[k]
                k += 1
        return out, saved

    def looped_backward(self, grad_out: torch.Tensor, saved: list) -> None:
        grad_out = grad_out.contiguous()
        last = len(self.shapes) - 1
        R = grad_out.shape[1]
        base = grad_out.data_ptr() // grad_out.element_size()
        grads = grad_out.unbind(0)
        bwd = self.act_bwd
        for g, layers in enumerate(saved):
            if layers is None:
                continue
            r = layers[0][0].shape[0]
            gr = grads[g] if r == R else grads[g][:r]
            if (base + g * R * self.n_out) % _ALIGN:
                gr = _aligned_like(gr, 0)  # as the single run's fresh gradient
            lw = self.lw[g]
            for li in range(last, -1, -1):
                h, pre, post = layers[li]
                W, Wt, _b, gW, gb = lw[li]
                if li < last:
                    gr = bwd[li](gr, pre, post)
                torch.mm(gr.t(), h, out=gW)  # mm_mat2_backward (W.t() is column-major)
                torch.sum(gr, 0, keepdim=True, out=gb)  # the bias, summed to its shape
                if li > 0:  # mm_mat1_backward
                    gr = Wt.mm(gr.t()).t() if (h.shape[1] == 1 and h.shape[0] == 1) else gr.mm(W)


# ---- which groups compute exactly what their single runs compute ----------------------------------
# torch.baddbmm does not always round as F.linear (addmm) does: depending on the shapes it takes a
# naive loop or a batched BLAS call whose edge tiles differ from the single-matrix one (measured on
# a 2-16-16-2 net: bit-for-bit; at widths 6, 9, 14, 30 not, and a zero-padded width almost never).
# A rounding difference of 1e-7 per step grows, through Adam, to 1e-3 and more over 50 epochs, so
# a group is stacked only when a probe shows its shapes are bit-for-bit; else its members train in
# a looped group (or as singles). The probe is one forward and backward of each layer, per
# (members, rows, padded rows, padded and real in/out sizes), cached for the process.
_PROBES: dict[tuple, bool] = {}


def _probe_layer(G: int, B: int, r: int, Kp: int, Np: int, K: int, N: int, input_grad: bool) -> bool:
    key = (G, B, r, Kp, Np, K, N, input_grad)
    hit = _PROBES.get(key)
    if hit is not None:
        return hit
    gen = torch.Generator().manual_seed(20261201)
    ok = True
    for slot in sorted({0, G - 1}):
        def rnd(*shape):
            return torch.randn(*shape, generator=gen)
        x, W, b, go = rnd(r, K), rnd(N, K), rnd(N), rnd(r, N)
        x1, W1, b1 = (t.clone().requires_grad_(True) for t in (x, W, b))
        F.linear(x1, W1, b1).backward(go)
        xp, Wp, bp, gop = rnd(G, B, Kp), rnd(G, Np, Kp), rnd(G, 1, Np), rnd(G, B, Np)
        with torch.no_grad():
            xp[slot, :r, :K] = x
            Wp[slot].zero_()
            Wp[slot, :N, :K] = W
            bp[slot].zero_()
            bp[slot, 0, :N] = b
            gop[slot].zero_()
            gop[slot, :r, :N] = go
        for t in (xp, Wp, bp):
            t.requires_grad_(True)
        out = torch.baddbmm(bp, xp, Wp.transpose(1, 2))
        same = torch.equal(out.detach()[slot, :r, :N], F.linear(x, W, b))
        out.backward(gop)
        same = (same and torch.equal(Wp.grad[slot, :N, :K], W1.grad) and torch.equal(bp.grad[slot, 0, :N], b1.grad)
                and (not input_grad or torch.equal(xp.grad[slot, :r, :K], x1.grad)))
        if not same:
            ok = False
            break
    _PROBES[key] = ok
    return ok


def _stacks_exactly(slots: list[_Slot]) -> bool:
    """Whether stacking ``slots`` in one ``_Group`` computes every member's forward and backward
    bit-for-bit as its single run (every layer, every mini-batch size, see :func:`_probe_layer`)."""
    G = len(slots)
    n_in = slots[0].member.arrays.n_features
    widths = [[lin.out_features for lin in s.model.linears] for s in slots]
    padded = [max(col) for col in zip(*widths)]
    B = max(min(s.cfg.batch_size, s.n_train) for s in slots)
    for s, ws in zip(slots, widths):
        bs = min(s.cfg.batch_size, s.n_train)
        rows = {bs, s.n_train - (s.steps - 1) * s.cfg.batch_size}
        for r in rows:
            k, kp = n_in, n_in
            for li, (n, np_) in enumerate(zip(ws, padded)):
                if not _probe_layer(G, B, r, kp, np_, k, n, li > 0):
                    return False
                k, kp = n, np_
    return True


def _exact_groups(slots: list[_Slot], pad_widths: bool, exact: bool) -> list:
    """The groups for members of one structure: one stacked group where that is exact (or where
    ``exact=False`` allows rounding); else one :class:`_Looped` group; else (dropout, penalties)
    stacked groups of equal widths where exact, and singles."""
    if len(slots) == 1:
        return [_Single(slots)]
    if not exact or _stacks_exactly(slots):
        return [_Group(slots)]
    out, rest = [], list(slots)
    if _Looped.eligible(slots):  # one looped group costs less per step than a stack per width
        return [_Looped(slots)]
    if pad_widths:
        by_width: dict[tuple, list] = {}
        for s in slots:
            by_width.setdefault(tuple(spec.units for spec in s.mcfg.hidden), []).append(s)
        if len(by_width) > 1:
            rest = []
            for part in by_width.values():
                if len(part) > 1 and _stacks_exactly(part):
                    out.append(_Group(part))
                else:
                    rest.extend(part)
    if len(rest) > 1 and _Looped.eligible(rest):
        out.append(_Looped(rest))
    else:
        out.extend(_Single([s]) for s in rest)
    return out


def _fused_adam_call(opt: torch.optim.Optimizer):
    """``(state steps, call)`` that performs ``opt.step()`` of a fused CPU Adam / AdamW directly:
    the very ``torch._fused_adam(w)_`` kernel call ``torch.optim.Adam`` ends in, on lists built
    once, without its Python loop over every tensor (about 3 us per tensor and step: for a looped
    group of 10 widths, 60 tensors, as much as the rest of the step). ``None`` where that does not
    apply (another optimizer or option) or the state is not built yet."""
    if type(opt) not in (torch.optim.Adam, torch.optim.AdamW) or len(opt.param_groups) != 1:
        return None
    g = opt.param_groups[0]
    if (not g.get("fused") or g.get("amsgrad") or g.get("maximize") or g.get("capturable")
            or g.get("differentiable") or isinstance(g["lr"], torch.Tensor)):
        return None
    params = g["params"]
    if any(p.grad is None or "exp_avg" not in opt.state.get(p, {}) for p in params):
        return None
    state = [opt.state[p] for p in params]
    if len({float(st["step"]) for st in state}) != 1:
        return None
    # lockstep: every tensor has taken the same steps, so they share ONE step counter (one add per
    # step instead of a foreach add over all); ``_unlock`` gives each tensor its own copy again
    step = state[0]["step"].clone()
    for st in state:
        st["step"] = step
    fn = torch._fused_adamw_ if g.get("decoupled_weight_decay") else torch._fused_adam_
    beta1, beta2 = g["betas"]
    args = (params, [p.grad for p in params], [st["exp_avg"] for st in state], [st["exp_avg_sq"] for st in state],
            [], [step] * len(params))
    kw = dict(amsgrad=False, lr=g["lr"], beta1=float(beta1), beta2=float(beta2), weight_decay=g["weight_decay"],
              eps=g["eps"], maximize=False, grad_scale=None, found_inf=None)
    return step, (lambda: fn(*args, **kw))


def _lockstep_step(grp) -> None:
    """``grp.opt.step()`` of a lockstep group (through :func:`_fused_adam_call` once it applies)."""
    fast = getattr(grp, "fast", None)
    if fast is None:
        grp.opt.step()
        grp.fast = _fused_adam_call(grp.opt) or False
        return
    if fast is False:
        grp.opt.step()
        return
    step, call = fast
    with torch.no_grad():
        step.add_(1)
        call()


def _epoch_hits(grp) -> None:
    """Add the metric sums of the steps the whole group took (kept in ``grp.step_outs``) in one
    computation per epoch instead of a few small ops per step. Only members recorded at the end of
    the epoch matter, and those took part in every step where they had rows (the mask)."""
    outs = getattr(grp, "step_outs", None)
    if not outs:
        return
    idx = torch.tensor([step for step, _ in outs])
    O = torch.stack([o for _, o in outs])  # (n, G, B, k)
    n, G, B = O.shape[:3]
    O = O.transpose(0, 1).reshape(G, n * B, O.shape[-1])
    Y = grp.ys.index_select(0, idx).transpose(0, 1).reshape(G, n * B)
    M = grp.mask.index_select(0, idx).transpose(0, 1).reshape(G, n * B)
    sums = grp.hits(O, Y, M)
    grp.metric_sum = sums if grp.metric_sum is None else grp.metric_sum + sums
    grp.step_outs = []


class BatchedMLPSystem(L.LightningModule):
    """All members of one call as one LightningModule (manual optimization, one batch per call)."""

    def __init__(self, slots: list[_Slot], max_seconds: float | None, pad_widths: bool = False,
                 lockstep: bool = True, exact: bool = True) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.slots = slots
        self.models = nn.ModuleList([s.model for s in slots])
        by_shape: dict[tuple, list[_Slot]] = {}
        for s in slots:
            a, cfg = s.member.arrays, s.mcfg
            key = (a.n_features, s.model.n_outputs, str(Task(a.task)), loss_name(a.task, cfg, s.model.n_outputs),
                   tuple(spec.activation for spec in cfg.hidden))
            if not pad_widths:
                key += (tuple(spec.units for spec in cfg.hidden),)
            by_shape.setdefault(key, []).append(s)
        self.groups = [grp for g in by_shape.values() for grp in _exact_groups(g, pad_widths, exact)]
        self.max_seconds = max_seconds
        self.lockstep = lockstep
        self.start = time.perf_counter()
        self._opts: list[torch.optim.Optimizer] = []

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        return batch  # CPU only; the batch is just the epoch index

    def configure_optimizers(self):
        """One optimizer per kind over the members' own tensors - except for "lockstep" groups
        (see :meth:`_lockstep`), whose optimizer steps the stacked block tensors directly."""
        by_kind: dict[str, dict] = {}
        opts = []
        for grp in self.groups:
            grp.opt = None
            for s in grp.slots:
                s.group = grp
            if self.lockstep and self._lockstep(grp):
                ocfg = grp.slots[0].cfg.optim
                grp.lock = grp.lockstep_tensors(_simd_unit(ocfg.name))
                grp.opt = make_optimizer(grp.lock, ocfg)
                opts.append(grp.opt)
                continue
            for s in grp.slots:
                ocfg = s.cfg.optim
                by_kind.setdefault(ocfg.name, {}).setdefault(ocfg, []).extend(s.params)
        for groups in by_kind.values():
            cfgs = list(groups)
            param_groups = [{"params": ps, **_group_values(c)} for c, ps in groups.items()]
            opts.append(make_optimizer(param_groups, cfgs[0]))
        self._opts = opts
        self._opt_of = {}
        for opt in opts:
            for group in opt.param_groups:
                for p in group["params"]:
                    self._opt_of[p] = opt
        return opts

    @staticmethod
    def _lockstep(grp) -> bool:
        """Whether the group's members can share ONE optimizer over the stacked blocks: same
        ``OptimConfig`` of an element-wise optimizer (not LARS: its norms are per tensor), same
        steps per epoch and epochs, and the same optimizer step count so far. Element-wise updates
        of a stacked tensor are then exactly each member's own, and the optimizer's Python cost
        per step is paid for 2 * depth tensors instead of 2 * depth * M. When a member stops or
        skips a step, :meth:`_unlock` splits the state back into per-member tensors."""
        if isinstance(grp, _Single):
            return False
        first = grp.slots[0]
        if first.cfg.optim.name == "lars":
            return False
        steps = set()
        for s in grp.slots:
            if (s.cfg.optim != first.cfg.optim or s.steps != first.steps or s.n_epochs != first.n_epochs
                    or s.state.epoch != first.state.epoch):
                return False
            st = s.state
            if st.optim_state is None or st.optim_name != s.cfg.optim.name:
                steps.add(None)
            else:
                per = st.optim_state.get("state", {})
                steps.add(tuple(float(np.asarray(v.get("step", 0))) for v in per.values()) if per else None)
        return len(steps) == 1

    def _unlock(self, grp) -> None:
        """Split a lockstep group's optimizer into one over the members' own tensors."""
        cfg = grp.slots[0].cfg.optim
        opt = make_optimizer([p for s in grp.slots for p in s.params], cfg)
        for j, t in enumerate(grp.lock_kind):
            if t is None:  # already per member (its own step counter: see _fused_adam_call)
                for s in grp.slots:
                    p = s.params[j]
                    if p in grp.opt.state:
                        opt.state[p] = {k: (v.clone() if k == "step" and isinstance(v, torch.Tensor) else v)
                                        for k, v in grp.opt.state[p].items()}
                    self._opt_of[p] = opt
                grp.lock_parts(j)
                continue
            st = grp.opt.state.get(t)
            for g, s in enumerate(grp.slots):
                p = s.params[j]
                if st:
                    opt.state[p] = {k: (grp.member_part(j, g, v).clone() if isinstance(v, torch.Tensor)
                                        and v.shape == t.shape else
                                        (v.clone() if isinstance(v, torch.Tensor) else v)) for k, v in st.items()}
                self._opt_of[p] = opt
        self._opts[self._opts.index(grp.opt)] = opt
        grp.opt = None

    def _member_optim_state(self, s) -> dict:
        """The member's optimizer state in ``optimizer.state_dict()`` form."""
        template = make_optimizer(s.params, s.cfg.optim).state_dict()
        grp = s.group
        if grp.opt is not None:  # lockstep: slices of the shared state
            g = grp.slots.index(s)
            state = {}
            for j, t in enumerate(grp.lock_kind):
                if t is None:
                    if s.params[j] in grp.opt.state:
                        state[j] = dict(grp.opt.state[s.params[j]])
                    continue
                st = grp.opt.state.get(t)
                if st:
                    state[j] = {k: (grp.member_part(j, g, v) if isinstance(v, torch.Tensor) and v.shape == t.shape
                                    else v) for k, v in st.items()}
            template["state"] = state
        else:
            opt = self._opt_of[s.params[0]]
            template["state"] = {i: dict(opt.state[p]) for i, p in enumerate(s.params) if p in opt.state}
        return template

    def on_train_start(self) -> None:
        """Each member's saved optimizer state (when it belongs to the current optimizer kind)."""
        self.start = time.perf_counter()
        loaded: dict[int, list] = {}
        for s in self.slots:
            st = s.state
            if st.optim_state is None or st.optim_name != s.cfg.optim.name:
                continue
            tmp = make_optimizer(s.params, s.cfg.optim)
            tmp.load_state_dict(_optim_to_torch(st.optim_state))
            if s.group.opt is not None:
                loaded.setdefault(id(s.group), []).append(tmp)
                continue
            opt = self._opt_of[s.params[0]]
            for p in s.params:
                if p in tmp.state:
                    opt.state[p] = tmp.state[p]
        for grp in self.groups:  # lockstep groups: stack the members' states
            tmps = loaded.get(id(grp))
            if not tmps:
                continue
            for j, t in enumerate(grp.lock_kind):
                states = [tmp.state.get(s.params[j]) for tmp, s in zip(tmps, grp.slots)]
                if not states[0]:
                    continue
                if t is None:
                    for s, st in zip(grp.slots, states):
                        grp.opt.state[s.params[j]] = st
                    continue
                grp.opt.state[t] = {
                    k: (torch.cat([st[k].reshape(-1) for st in states]).view(t.shape)
                        if isinstance(v, torch.Tensor) and v.numel() == grp.slots[0].params[j].numel() and v.ndim > 0
                        else v)
                    for k, v in states[0].items()}

    # ---- one epoch of every active member -----------------------------------------------------
    def training_step(self, batch, batch_idx: int):
        for ep in range(int(batch)):
            self._epoch(ep)
            if self.trainer.should_stop:
                break
        return None

    def _epoch(self, ep: int) -> None:
        t0 = time.perf_counter()
        for s in self.slots:
            s.alive = not s.stopped and ep < s.n_epochs  # trains this epoch (until it diverges)
        if not any(s.alive for s in self.slots):
            self.trainer.should_stop = True
            return
        with torch.no_grad():
            for s in self.slots:
                if not s.alive:
                    continue
                if s.saved is None:
                    s.saved = [p.detach().clone() for p in s.params]
                else:
                    for saved, p in zip(s.saved, s.params):
                        saved.copy_(p)
        for grp in self.groups:
            if grp.opt is not None:
                grp.lock_grads()  # the same gradient views each epoch (``grp.fast`` holds them)
            grp.load_epoch([s.alive for s in grp.slots])
            grp.loss_sum = [0.0] * len(grp.slots)
            grp.metric_sum = None
            grp.step_outs = []
            grp.steps_done = [0] * len(grp.slots)
        n_steps = max(grp.S for grp in self.groups)
        for step in range(n_steps):
            work = []  # (group, participating, out, y, mask, loss, objective)
            for grp in self.groups:
                if step >= grp.S:
                    continue
                rows = grp.rows[step]
                part = [s.alive and rows[g] > 0 for g, s in enumerate(grp.slots)]
                if not any(part):
                    continue
                xb, yb, mb, count = grp.batch(step)
                if getattr(grp, "manual", False):
                    out, loss, ctx = grp.manual_step(xb, yb, mb, count)
                    grp.manual_ctx = ctx
                    work.append((grp, part, out, yb, mb, loss, loss))
                    continue
                grp.manual_ctx = None
                out = grp.forward(xb, grp.dropout_noise(step, part))
                loss = grp.losses(out, yb, mb, count)
                pen = grp.penalties()
                work.append((grp, part, out, yb, mb, loss, loss if pen is None else loss + pen))
            if not work:
                continue
            parts = [t for w in work for t in ((w[5],) if w[6] is w[5] else (w[5], w[6]))]
            values = (parts[0] if len(parts) == 1 else torch.cat(parts)).tolist()  # one sync per step
            total = None
            manual = []
            k = 0
            for grp, part, out, yb, mb, loss, obj in work:
                G = len(grp.slots)
                lv = values[k:k + G]
                k += G
                if obj is loss:
                    ov = lv
                else:
                    ov = values[k:k + G]
                    k += G
                rows = grp.rows[step]
                for g, s in enumerate(grp.slots):
                    if not part[g]:
                        continue
                    if not math.isfinite(ov[g]):  # stops this member, before the bad update
                        self._diverged(s, grp.steps_done[g] + 1)
                        s.alive = False
                        part[g] = False
                        continue
                    grp.loss_sum[g] += lv[g] * int(rows[g])
                    grp.steps_done[g] += 1
                grp.stepping = part
                if grp.manual_ctx is not None:  # backward by hand, after the others' backward
                    manual.append(grp)
                    term = None
                elif all(part):
                    term = obj.sum()
                elif any(part):
                    term = (obj * torch.tensor(part, dtype=obj.dtype)).sum()
                else:
                    term = None
                if term is not None:
                    total = term if total is None else total + term
                if all(part) and not isinstance(grp, _Single):  # scored once per epoch (_epoch_hits)
                    grp.step_outs.append((step, out.detach()))
                    continue
                with torch.no_grad():
                    m = mb if all(part) else mb & torch.tensor(part).unsqueeze(1)
                    sums = grp.hits(out.detach(), yb, m)
                    grp.metric_sum = sums if grp.metric_sum is None else grp.metric_sum + sums
            for grp in self.groups:
                grp.zero_grad()
            manual = [grp for grp in manual if any(grp.stepping)]
            if total is None and not manual:
                continue
            if total is not None:
                total.backward()
            for grp in manual:
                grp.manual_backward(grp.manual_ctx, grp.stepping)
            stepped = {id(w[0]) for w in work}
            for grp in self.groups:
                stepping = grp.stepping if id(grp) in stepped else [False] * len(grp.slots)
                if grp.opt is not None:
                    if all(stepping):
                        grp.gather_grads()
                        _lockstep_step(grp)  # one optimizer call for the whole group
                        continue
                    self._unlock(grp)
                grp.hand_out_grads(stepping)
            for opt in self._opts:
                if not any(opt is grp.opt for grp in self.groups):
                    opt.step()
        self._end_epoch(t0)

    def _diverged(self, s: _Slot, step: int) -> None:
        epoch = s.state.epoch + len(s.records) + 1
        s.diverged = (epoch, step)
        s.status = "diverged"
        s.stopped = True
        if not all(bool(torch.isfinite(p).all()) for p in s.params):
            with torch.no_grad():  # the weights before this epoch: the last surely finite ones
                for saved, p in zip(s.saved, s.params):
                    p.copy_(saved)

    @torch.no_grad()
    def _end_epoch(self, t0: float) -> None:
        vals = []
        for grp in self.groups:
            _epoch_hits(grp)
            Xv, yv, maskv, nv = grp.val()
            out = grp.forward(Xv)  # eval mode: no dropout
            vals.append((grp.losses(out, yv, maskv, nv), grp.hits(out, yv, maskv)))
        flat = torch.cat([torch.cat([v[0].double(), v[1].double().reshape(-1)]) for v in vals]).tolist()
        seconds = time.perf_counter() - t0
        k = 0
        for grp, (vl_t, vm_t) in zip(self.groups, vals):
            G = len(grp.slots)
            vloss = flat[k:k + G]
            vm = flat[k + G:k + G + vm_t.numel()]
            k += G + vm_t.numel()
            msum = grp.metric_sum.tolist() if grp.metric_sum is not None else None
            for g, s in enumerate(grp.slots):
                if not s.alive:
                    continue
                epoch = s.state.epoch + len(s.records) + 1
                vl = vloss[g] * grp.nv[g] / grp.nv[g]
                if not math.isfinite(vl):  # the epoch's last update blew the weights up
                    self._diverged(s, s.steps)
                    continue
                if grp.task is Task.REGRESSION:
                    tm = grp.metric([msum[0][g], msum[1][g], msum[2][g]], s.n_train)
                    vmet = grp.metric([vm[g], vm[G + g], vm[2 * G + g]], grp.nv[g])
                else:
                    tm = grp.metric(msum[g], s.n_train)
                    vmet = grp.metric(vm[g], grp.nv[g])
                tl = grp.loss_sum[g] / s.n_train
                s.records.append(EpochRecord(epoch, tl, vl, tm, vmet, seconds))
                if s.gen is not None:
                    s.rng = s.gen.get_state().numpy().copy()
                if vl < s.best:
                    s.best, s.bad = vl, 0
                else:
                    s.bad += 1
                if s.cfg.patience is not None and s.bad >= s.cfg.patience:
                    s.status = "early_stopped"
                    s.stopped = True
                elif len(s.records) >= s.n_epochs:
                    s.stopped = True
        if all(s.stopped for s in self.slots):
            self.trainer.should_stop = True
        elif self.max_seconds is not None and time.perf_counter() - self.start >= self.max_seconds:
            self.trainer.should_stop = True

    # ---- results ------------------------------------------------------------------------------
    def results(self) -> list[TrainState]:
        out = []
        for s in self.slots:
            st = s.state
            epoch = st.epoch + len(s.records)
            status = s.status or ("done" if epoch >= s.cfg.epochs else "paused")
            if status != "diverged":
                optim_state, optim_name = state_to_numpy(self._member_optim_state(s)), s.cfg.optim.name
            else:
                optim_state, optim_name = st.optim_state, st.optim_name
            out.append(TrainState(
                model_state=state_to_numpy(s.model.state_dict()),
                optim_state=optim_state,
                epoch=epoch,
                rng_state=s.rng,
                history=list(st.history) + s.records,
                status=status,
                diverged_epoch=s.diverged[0] if s.diverged else None,
                diverged_step=s.diverged[1] if s.diverged else None,
                best_val_loss=s.best,
                bad_epochs=s.bad,
                optim_name=optim_name,
            ))
        return out


def _slot(member, state: TrainState, n_epochs: int) -> _Slot:
    arrays, mcfg, cfg = member.arrays, member.model_cfg, member.train_cfg
    with torch.random.fork_rng(devices=[]):  # the random init is overwritten next
        model = MLP(mcfg, arrays.n_features, arrays.n_outputs(mcfg))
    _load_weights(model, state.model_state)
    params = [p for lin in model.linears for p in (lin.weight, lin.bias)]
    gen = None
    if mcfg.dropout > 0:
        gen = torch.Generator()
        gen.set_state(torch.from_numpy(np.asarray(state.rng_state, dtype=np.uint8).copy()))
    n = len(arrays.y_train)
    return _Slot(member=member, state=state, n_epochs=n_epochs, model=model, params=params,
                 weights=[lin.weight for lin in model.linears], steps=math.ceil(n / cfg.batch_size), n_train=n,
                 gen=gen, best=state.best_val_loss, bad=state.bad_epochs, rng=state.rng_state)


def run(members: list, states: list[TrainState], n_epochs: list[int], max_seconds: float | None,
        pad_widths: bool = False, lockstep: bool = True, exact: bool = True) -> list[TrainState]:
    """One ``Trainer.fit`` that advances every member by up to its ``n_epochs`` (all >= 1)."""
    slots = [_slot(m, s, n) for m, s, n in zip(members, states, n_epochs)]
    system = BatchedMLPSystem(slots, max_seconds, pad_widths, lockstep, exact)
    trainer = lean_trainer()
    fit_lean(trainer, system, OneBatch(max(n_epochs)))  # the batch: epochs this call may run
    return system.results()

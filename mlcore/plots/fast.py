"""Cheap figures: the subset of plotly's ``go.Figure`` API our builders use, on plain dicts.

Why this is hand-written: one Streamlit server process serves a whole class, and every slider move
reruns the page script, which rebuilds its figures. Most of that rerun's CPU was plotly checking
every property of every figure (``go.Scatter(...)``, ``update_layout``/``update_xaxes``,
``make_subplots``, and re-creating the ``plotly_white`` template from its name on every call):
about 5-10 ms per figure call, 50-150 ms per page run. The figures here are fixed in code, so the
checking finds nothing new on each run. This module builds the same figure as plain dicts and wraps
it once with ``go.Figure(spec, _validate=False)`` (the same trick ``mlcore.plots.train`` uses for the
live view), and ``tests/unit/test_plots_fast.py`` runs every builder decorated with ``@builder``
both ways, here and with real validated plotly (``with validated(): ...``), and asserts that the
two ``fig.to_dict()`` are equal. That test is what makes the fast path safe: a builder that uses a
feature this module does not reproduce faithfully fails it.

Use in a builder module::

    from mlcore.plots import fast

    @fast.builder
    def my_figure(...):
        fig = fast.make_subplots(rows=1, cols=2, subplot_titles=(a, b))   # or fast.Figure()
        fig.add_trace(fast.Scatter(x=..., y=..., line_width=3), 1, 2)
        fig.update_xaxes(title="x", row=1, col=2)
        return base_layout(fig, 420)   # the decorator turns it into a go.Figure

What is reproduced (what plotly's validation would change in the output): magic underscores
(``title_font`` -> ``title.font``), a string ``title`` -> ``{"text": ...}``, named colour scales
spelled out, tuples -> lists, ``None`` keyword values left out of traces, deep-merging updates,
subplot references for ``row``/``col`` (``make_subplots`` layouts computed once by plotly and
cached), ``add_vrect``/``add_vline``/``add_hline`` shapes, and named templates as cached dicts.
Not reproduced (``NotImplementedError``): ``update_layout(overwrite=True)`` and a list update of a
non-empty ``annotations``/``shapes``/... array, whose plotly semantics are irregular; any other
``go.Figure`` method is an ``AttributeError``. A new ``@builder`` needs a case in the test (the
test fails for a registered builder without one).

Two more savings for finished figures: ``with_frames`` attaches animation frames without
validation (plotly 7 validates frames even with ``_validate=False``), and ``frozen`` turns a figure
that is cached and shown again unchanged into the dict ``st.plotly_chart`` sends, once.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from typing import Any, Callable, Iterator

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots as _plotly_make_subplots

_VALIDATED: contextvars.ContextVar[bool] = contextvars.ContextVar("mlcore_plots_validated", default=False)

BUILDERS: dict[str, Callable] = {}  # "module.name" -> builder; the equality test covers each one

# arrays of objects: an update with a list merges into the existing elements, as plotly does
# the only plotly property names with an underscore (plotly 6-7 schema); any other "a_b" is a path
_UNDERSCORE_PROPS = frozenset({"plot_bgcolor", "paper_bgcolor", "error_x", "error_y", "error_z",
                               "copy_ystyle", "copy_zstyle"})
_OBJECT_ARRAYS = frozenset({"annotations", "shapes", "images", "updatemenus", "sliders", "buttons", "steps"})


@contextlib.contextmanager
def validated() -> Iterator[None]:
    """Within this block every builder uses real validated plotly (``go.Figure``, ``go.Scatter``,
    plotly's ``make_subplots``): the reference the tests compare the fast figures with."""
    token = _VALIDATED.set(True)
    try:
        yield
    finally:
        _VALIDATED.reset(token)


def is_validated() -> bool:
    return _VALIDATED.get()


def builder(fn: Callable) -> Callable:
    """Register a figure builder and return a real ``go.Figure`` from it whichever way it was built."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return finish(fn(*args, **kwargs))

    BUILDERS[f"{fn.__module__}.{fn.__qualname__}"] = wrapper
    return wrapper


def finish(fig) -> go.Figure:
    return fig.to_go() if isinstance(fig, FastFigure) else fig


def with_frames(fig: go.Figure, frames: list[dict]) -> go.Figure:
    """Attach animation frames (plain dicts) to a finished figure. Plotly 7 validates frames even
    in a figure built with ``_validate=False`` (about 2 ms a frame, most of an animated figure's
    cost), so outside ``validated()`` they are wrapped unvalidated. Read them back with
    ``fig.to_dict()["frames"]`` (which is what Streamlit sends): plotly cannot open
    ``fig.frames[i].data`` of an unvalidated frame."""
    if _VALIDATED.get():
        fig.frames = frames
    else:
        fig._frame_objs = tuple(go.Frame(frame, _validate=False) for frame in frames)
    return fig


class Frozen(go.Figure):
    """A finished figure already turned into plain data, for ``st.plotly_chart`` only.

    ``st.plotly_chart`` calls ``fig.to_dict()`` on every run: a deep copy of every list and array,
    and for an animated figure (lists in 30 frames) most of the chart's cost. A figure that is
    cached and shown again unchanged (the same inputs on every rerun and for every student) can
    make that dict once: Streamlit only reads it, to serialise it. Nothing else of plotly's object
    tree is kept, so read the figure before freezing it (``fig.to_dict()`` gives the same dict).
    """

    def __init__(self, fig: go.Figure) -> None:  # pylint: disable=super-init-not-called
        self._frozen = fig.to_dict()

    def to_dict(self) -> dict:
        return self._frozen


def frozen(fig: go.Figure) -> Frozen:
    return Frozen(fig)


# ---- values -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _named_colorscale(name: str) -> tuple:
    from _plotly_utils.basevalidators import ColorscaleValidator

    return tuple(tuple(step) for step in ColorscaleValidator("colorscale", "fast").validate_coerce(name))


@functools.lru_cache(maxsize=8)
def _template(name: str) -> dict:
    return pio.templates[name].to_plotly_json()


def _value(key: str, v: Any) -> Any:
    """A leaf value as validation leaves it: tuples as lists, named colour scales spelled out."""
    if isinstance(v, str):
        if key == "colorscale":
            return [list(step) for step in _named_colorscale(v)]
        if key == "template":
            return _copy(_template(v))  # a copy: a later update may merge into the figure's template
        return v
    if isinstance(v, tuple):
        v = list(v)
    if isinstance(v, list):
        return [_clean(x) if isinstance(x, dict) else _value("", x) for x in v]
    return v


def _clean(d: dict) -> dict:
    """A fresh dict with magic underscores expanded and ``None`` values left out (as plotly's
    constructors do with ``None`` keyword arguments)."""
    out: dict = {}
    _merge(out, d, drop_none=True)
    return out


def _merge(target: dict, update: dict, drop_none: bool = False) -> None:
    """``update`` merged into ``target`` as plotly's ``update`` does: nested dicts recursively,
    ``title="..."`` as ``title.text``, a ``None`` removes a property (leaves an empty object for
    ``title``)."""
    for key, v in update.items():
        if v is None and drop_none:
            continue
        node = target
        parts = key.split("_") if "_" in key and key not in _UNDERSCORE_PROPS else [key]
        for part in parts[:-1]:
            nxt = node.get(part)
            if isinstance(nxt, str) and part == "title":
                nxt = {"text": nxt}
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        leaf = parts[-1]
        if v is None:
            if leaf == "title":
                node[leaf] = {}
            else:
                node.pop(leaf, None)
        elif leaf == "title" and isinstance(v, str):
            node[leaf] = {"text": v}
        elif isinstance(v, dict) and leaf not in ("template",):
            existing = node.get(leaf)
            if isinstance(existing, dict):
                _merge(existing, v)
            else:
                node[leaf] = _clean(v)
        elif leaf in _OBJECT_ARRAYS and isinstance(v, (list, tuple)) and node.get(leaf):
            # plotly merges such a list into the existing elements cyclically, and drops those
            # merges when the list is longer: not reproduced; use add_annotation/update_annotations
            raise NotImplementedError(f"FastFigure: a list update of the non-empty {leaf!r}")
        else:
            node[leaf] = _value(leaf, v)


# ---- traces -----------------------------------------------------------------------------------


def _trace_factory(kind: str, go_class) -> Callable[..., Any]:
    def make(arg: dict | None = None, **kwargs):
        if _VALIDATED.get():
            return go_class(arg, **kwargs) if arg is not None else go_class(**kwargs)
        trace = {"type": kind}
        if arg:
            _merge(trace, arg, drop_none=True)
        _merge(trace, kwargs, drop_none=True)
        return trace

    make.__name__ = go_class.__name__
    make.__doc__ = f"``go.{go_class.__name__}(...)``, as a plain dict outside ``validated()``."
    return make


Scatter = _trace_factory("scatter", go.Scatter)
Scattergl = _trace_factory("scattergl", go.Scattergl)
Bar = _trace_factory("bar", go.Bar)
Box = _trace_factory("box", go.Box)
Heatmap = _trace_factory("heatmap", go.Heatmap)
Contour = _trace_factory("contour", go.Contour)
Waterfall = _trace_factory("waterfall", go.Waterfall)


# ---- figures ----------------------------------------------------------------------------------


def Figure(data=None, layout: dict | None = None):  # noqa: N802 - mirrors go.Figure
    if _VALIDATED.get():
        return go.Figure(data=data, layout=layout)
    return FastFigure(data, layout)


def make_subplots(**kwargs):
    """``plotly.subplots.make_subplots``; outside ``validated()`` its layout is computed once per
    distinct set of arguments and copied."""
    if _VALIDATED.get():
        return _plotly_make_subplots(**kwargs)
    key = tuple(sorted((k, _hashable(v)) for k, v in kwargs.items()))
    layout, grid = _subplots_layout(key)
    fig = FastFigure(None, None)
    fig._layout = _copy(layout)
    fig._grid = grid
    return fig


def _hashable(v):
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    return v


@functools.lru_cache(maxsize=128)
def _subplots_layout(key: tuple) -> tuple[dict, dict]:
    lists = ("column_widths", "row_heights")
    kwargs = {k: list(v) if isinstance(v, tuple) and k in lists else v for k, v in key}
    fig = _plotly_make_subplots(**kwargs)
    layout = fig.to_dict()["layout"]
    layout.pop("template", None)
    grid = {}
    for r, row in enumerate(fig._grid_ref, start=1):
        for c, refs in enumerate(row, start=1):
            if refs:
                ref = refs[0]
                grid[(r, c)] = (ref.layout_keys, dict(ref.trace_kwargs))
    return layout, grid


def _copy(v):
    """Deep copy of plain JSON-like data (much cheaper than ``copy.deepcopy``)."""
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


class FastFigure:
    """Accumulates a figure as ``{"data": [...], "layout": {...}}``; ``to_go()`` wraps it without
    validation. Only what our builders call is here; anything else is an ``AttributeError``."""

    def __init__(self, data=None, layout: dict | None = None):
        self._data: list[dict] = []
        self._layout: dict = {}
        self._grid: dict | None = None  # (row, col) -> ((x key, y key), trace axis kwargs)
        if data is not None:
            for trace in data if isinstance(data, (list, tuple)) else [data]:
                self.add_trace(trace)
        if layout:
            self.update_layout(layout)

    # -- traces
    @property
    def data(self) -> tuple[dict, ...]:
        return tuple(self._data)

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> "FastFigure":
        if not isinstance(trace, dict):
            raise TypeError("FastFigure.add_trace takes the dicts of mlcore.plots.fast trace constructors")
        trace = dict(trace)
        if row is not None or col is not None:
            trace.update(self._cell(row, col)[1])
        self._data.append(trace)
        return self

    def add_traces(self, traces, rows=None, cols=None) -> "FastFigure":
        for i, trace in enumerate(traces):
            self.add_trace(trace, None if rows is None else rows[i], None if cols is None else cols[i])
        return self

    # -- layout
    def update_layout(self, dict1: dict | None = None, overwrite: bool = False, **kwargs) -> "FastFigure":
        if overwrite:
            raise NotImplementedError("FastFigure.update_layout(overwrite=True)")
        if dict1:
            _merge(self._layout, dict1)
        if kwargs:
            _merge(self._layout, kwargs)
        return self

    def _axes(self, letter: str, row, col) -> list[dict]:
        if row is not None or col is not None:
            if self._grid is None:
                raise ValueError("row/col need a figure from make_subplots")
            cells = [(r, c) for r, c in self._grid if (row is None or r == row) and (col is None or c == col)]
            keys = [self._grid[rc][0][0 if letter == "x" else 1] for rc in cells]
        else:
            prefix = f"{letter}axis"
            keys = [k for k in self._layout if k.startswith(prefix) and k[len(prefix):].isdigit()]
            keys = [prefix] + sorted(keys, key=lambda k: int(k[len(prefix):]))
        return [self._layout.setdefault(k, {}) for k in keys]

    def update_xaxes(self, patch: dict | None = None, row=None, col=None, **kwargs) -> "FastFigure":
        for axis in self._axes("x", row, col):
            _merge(axis, {**(patch or {}), **kwargs})
        return self

    def update_yaxes(self, patch: dict | None = None, row=None, col=None, **kwargs) -> "FastFigure":
        for axis in self._axes("y", row, col):
            _merge(axis, {**(patch or {}), **kwargs})
        return self

    # -- annotations and shapes
    def _cell(self, row, col) -> tuple[tuple[str, str], dict]:
        if self._grid is None or (row, col) not in self._grid:
            raise ValueError(f"no subplot at row={row}, col={col}")
        return self._grid[(row, col)]

    def _refs(self, item: dict, row, col) -> dict:
        if row is None and col is None:
            return item
        axes = self._cell(row, col)[1]
        for letter in ("x", "y"):
            given = item.get(f"{letter}ref", "")
            item[f"{letter}ref"] = axes[f"{letter}axis"] + (" domain" if "domain" in given else "")
        return item

    def add_annotation(self, arg: dict | None = None, row=None, col=None, **kwargs) -> "FastFigure":
        item = _clean({**(arg or {}), **kwargs})
        self._layout.setdefault("annotations", []).append(self._refs(item, row, col))
        return self

    def update_annotations(self, patch: dict | None = None, **kwargs) -> "FastFigure":
        for item in self._layout.get("annotations", []):
            _merge(item, {**(patch or {}), **kwargs})
        return self

    def add_shape(self, arg: dict | None = None, row=None, col=None, **kwargs) -> "FastFigure":
        item = _clean({**(arg or {}), **kwargs})
        self._layout.setdefault("shapes", []).append(self._refs(item, row, col))
        return self

    def add_vrect(self, x0, x1, row=None, col=None, **kwargs) -> "FastFigure":
        shape = dict(type="rect", x0=x0, x1=x1, xref="x", y0=0, y1=1, yref="y domain", **kwargs)
        return self.add_shape(shape, row=row, col=col)

    def add_vline(self, x, row=None, col=None, **kwargs) -> "FastFigure":
        return self.add_shape(dict(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="y domain", **kwargs),
                              row=row, col=col)

    def add_hline(self, y, row=None, col=None, **kwargs) -> "FastFigure":
        return self.add_shape(dict(type="line", x0=0, x1=1, xref="x domain", y0=y, y1=y, yref="y", **kwargs),
                              row=row, col=col)

    # -- out
    def to_dict(self) -> dict:
        return {"data": list(self._data), "layout": self._layout}

    def to_go(self) -> go.Figure:
        return go.Figure({"data": self._data, "layout": self._layout}, _validate=False)


def colorscale(name: str) -> list:
    """A named colour scale spelled out as validation spells it (for hand-written specs)."""
    return [list(step) for step in _named_colorscale(name)]

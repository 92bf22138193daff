"""A protocol-level Streamlit client: one simulated student per :class:`ProtoSession`.

Hand-written because no library speaks Streamlit's browser protocol, and a real browser per
simulated student would measure the browser, not the server. It does what the frontend does
(``frontend/app/src/App.tsx`` in Streamlit's repository), over the same websocket:

- connect to ``/_stcore/stream`` with the subprotocol ``streamlit`` (the browser puts an XSRF
  token and a previous session id in the next two entries; a new session needs neither);
- send ``BackMsg.rerun_script`` (a ``ClientState``: ``query_string``, ``page_script_hash``, or
  ``page_name`` before the page list is known, ``widget_states``, ``context_info.locale``) and read
  ``ForwardMsg``s until ``script_finished``;
- learn widget ids from the ``new_element`` deltas (Streamlit ids end with ``-<user key>``):
  sliders send ``double_array_value`` (a select slider, whose proto lists ``options``, the index
  of its option, as the browser does), buttons ``trigger_value``, integer number inputs
  ``int_value``; values persist between reruns as in the browser's widget manager;
- ``auto_rerun`` messages (``st.fragment(run_every=...)``) start a fixed-rate timer that sends
  ``rerun_script`` with ``fragment_id`` and ``is_auto_rerun``, as the browser's ``setInterval``
  does; a full (non-fragment) run and a page change cancel the timers, as the browser does.

It measures while it runs: the latency of each full rerun it asks for, the latency of each live
tick (tick sent -> its fragment run finished; ticks that the server coalesced into a later run
count as skipped), redraw times, and everything the session was shown (for the leak check).
Used by ``bench/bench_load.py`` and ``tests/e2e/test_classroom.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import DoubleArray
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

FINISHED_OK = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FINISHED_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
FINISHED_FRAGMENT = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")

DATA_SUMMARY = re.compile(r"\*\*([\w ]+)\*\* · (\d+) (?:rows|filas)")
EPOCH_LABEL = re.compile(r"\*\*(?:Epoch|Época) (\d+) / (\d+)\*\* · (.+)")
FINISHED_IN = re.compile(r" (?:in|en) (\d+(?:[.,]\d+)?) s$")  # "finished in 3.4 s": the server's own timing
TEXT_FIELDS = ("markdown", "alert", "heading", "text", "exception", "code", "toast")


def route_cookie(base_url: str, timeout: float = 30) -> str | None:
    """GET the app once and return the ``Cookie`` header value the reply set (nginx's sticky
    cookie in front of replicas; ``None`` when the server set none)."""
    with urllib.request.urlopen(f"{base_url}/", timeout=timeout) as resp:
        cookies = resp.headers.get_all("Set-Cookie") or []
    pairs = [c.split(";", 1)[0] for c in cookies]
    return "; ".join(pairs) if pairs else None


def _key_of(widget_id: str) -> str | None:
    # "$$ID-<hash>-<user key>" (a widget without a user key ends with "-None" or has no key part)
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] != "None" else None


def curve_points(spec_json: str) -> int:
    """Number of points of the first trace in a plotly figure spec (typed arrays arrive
    base64-encoded as ``{"dtype": ..., "bdata": ...}``)."""
    fig = json.loads(spec_json)
    data = fig.get("data") or []
    if not data:
        return 0
    x = data[0].get("x")
    if x is None:
        return 0
    if isinstance(x, dict) and "bdata" in x:
        size = {"f8": 8, "f4": 4, "i4": 4, "i2": 2, "i1": 1, "u1": 1, "u2": 2, "u4": 4, "i8": 8}
        return len(base64.b64decode(x["bdata"])) // size.get(x.get("dtype", "f8"), 8)
    return len(x)


@dataclass
class Widget:
    id: str
    kind: str
    proto: object


@dataclass
class Stats:
    interactions: list[tuple[str, float]] = field(default_factory=list)  # (label, seconds)
    tick_latencies: list[float] = field(default_factory=list)
    ticks_sent: int = 0
    ticks_skipped: int = 0
    redraws: list[float] = field(default_factory=list)  # perf_counter of each fragment redraw
    max_redraw_gap: float = 0.0
    errors: list[str] = field(default_factory=list)  # exceptions / tracebacks shown
    summaries: set[tuple[str, int]] = field(default_factory=set)  # (dataset, rows) seen
    max_queue_position: int = 0


class ProtoSession:
    """One browser tab, at the protocol level. Use inside a running asyncio loop."""

    def __init__(self, base_url: str, locale: str = "en-US", cookie: str | None = None,
                 name: str = "session") -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self.origin = self.base_url
        self.locale = locale
        self.cookie = cookie
        self.name = name
        self.stats = Stats()
        self.ws = None
        self.query_string = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.elements: dict[tuple, object] = {}  # delta path -> Element, current view
        self.widgets: dict[str, Widget] = {}  # user key -> widget
        self.values: dict[str, WidgetState] = {}  # widget id -> persistent value
        self._cache: dict[str, ForwardMsg] = {}
        self._full_waiters: list[asyncio.Future] = []
        self._pending_ticks: list[float] = []
        self._tick_tasks: dict[str, asyncio.Task] = {}
        self._run_started = 0.0
        self._run_is_fragment = False
        self._last_redraw: float | None = None
        self._run_page = ""
        self._reader: asyncio.Task | None = None
        self.closed = False
        self.epoch = (0, 0, "")  # last epoch label seen: (epoch, total, status)
        self.epoch_seen: list[tuple[float, int]] = []  # (time, epoch) when the label changed
        self.finished_in: float | None = None  # Play -> last epoch, as the server timed it
        self.curve_points = 0
        self.tick_listeners: list = []

    # ---- connection ----------------------------------------------------------------------
    async def connect(self) -> None:
        headers = {"Origin": self.origin}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                max_size=None, open_timeout=60, ping_interval=20, ping_timeout=120)
        self._reader = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        self.closed = True
        for task in self._tick_tasks.values():
            task.cancel()
        self._tick_tasks.clear()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the socket is gone anyway
                pass

    # ---- sending ---------------------------------------------------------------------------
    def _client_state(self, *, page_hash: str | None, page_name: str = "", fragment_id: str = "",
                      auto: bool = False, extra: list[WidgetState] = ()):
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_hash if page_hash is None else page_hash
        cs.page_name = page_name
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = auto
        cs.context_info.locale = self.locale
        cs.context_info.timezone = "UTC"
        cs.context_info.url = self.base_url + "/"
        states = dict(self.values)
        for w in extra:
            states[w.id] = w
        cs.widget_states.widgets.extend(states.values())
        return msg

    async def _send(self, msg: BackMsg) -> None:
        await self.ws.send(msg.SerializeToString())

    async def _full_rerun(self, msg: BackMsg, label: str, timeout: float) -> float:
        fut = asyncio.get_running_loop().create_future()
        # a switch waits for a run of ITS page: a rerun the app asked for itself (st.rerun at the
        # end of a training) can finish in between and must not count as the answer
        fut.page_hash = msg.rerun_script.page_script_hash or None
        self._full_waiters.append(fut)
        t0 = time.perf_counter()
        await self._send(msg)
        await asyncio.wait_for(fut, timeout)
        seconds = time.perf_counter() - t0
        self.stats.interactions.append((label, seconds))
        return seconds

    async def open(self, url_path: str = "", timeout: float = 120) -> float:
        """The first page run of a new tab, at ``/<url_path>`` (query string kept as set)."""
        return await self._full_rerun(self._client_state(page_hash="", page_name=url_path), "open", timeout)

    async def switch(self, url_path: str, timeout: float = 120) -> float:
        """Click a sidebar link: cancel the live timers, send only the frame's widget values."""
        self._stop_ticks()
        page_hash = self.pages[url_path]
        self.query_string = ""
        self.values.clear()
        self.elements.clear()
        return await self._full_rerun(self._client_state(page_hash=page_hash), f"switch:{url_path}", timeout)

    def widget(self, key: str) -> Widget:
        try:
            return self.widgets[key]
        except KeyError:
            raise KeyError(f"{self.name}: no widget with key {key!r} on this page "
                           f"(have {sorted(self.widgets)})") from None

    async def click(self, key: str, timeout: float = 120) -> float:
        w = self.widget(key)
        return await self._full_rerun(self._client_state(page_hash=None, extra=[WidgetState(id=w.id, trigger_value=True)]),
                                      f"click:{key}", timeout)

    async def set_value(self, key: str, value, timeout: float = 120) -> float:
        w = self.widget(key)
        state = WidgetState(id=w.id)
        if w.kind in ("slider",):
            if len(w.proto.options):  # st.select_slider: the browser sends the option's index
                if not (isinstance(value, int) and 0 <= value < len(w.proto.options)):
                    raise ValueError(f"set_value: {key} is a select slider; give an option index "
                                     f"below {len(w.proto.options)}, not {value!r}")
            state.double_array_value.CopyFrom(DoubleArray(data=[float(value)]))
        elif w.kind == "number_input":
            if w.proto.data_type == w.proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif w.kind in ("checkbox",):
            state.bool_value = bool(value)
        else:
            raise ValueError(f"set_value: unsupported widget kind {w.kind}")
        self.values[w.id] = state
        return await self._full_rerun(self._client_state(page_hash=None), f"set:{key}", timeout)

    # ---- live ticks --------------------------------------------------------------------------
    def _stop_ticks(self) -> None:
        for task in self._tick_tasks.values():
            task.cancel()
        self._tick_tasks.clear()
        self._pending_ticks.clear()
        self._last_redraw = None  # a gap while the view is not shown is no frozen view

    async def _tick_loop(self, fragment_id: str, interval: float) -> None:
        start = time.perf_counter()
        n = 0
        while not self.closed:
            n += 1
            await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))  # setInterval
            self._pending_ticks.append(time.perf_counter())
            self.stats.ticks_sent += 1
            try:
                await self._send(self._client_state(page_hash=None, fragment_id=fragment_id, auto=True))
            except Exception:  # noqa: BLE001 - the socket closed under us: stop ticking
                return

    def live(self) -> bool:
        return bool(self._tick_tasks)

    # ---- receiving -------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - report as a session error, the waiters fail
            if not self.closed:
                self.stats.errors.append(f"connection: {exc!r}")
        finally:
            for fut in self._full_waiters:
                if not fut.done():
                    fut.set_exception(ConnectionError(f"{self.name}: websocket closed"))
            self._full_waiters.clear()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                return
            cached_meta = ForwardMsg()
            cached_meta.CopyFrom(cached)
            cached_meta.metadata.CopyFrom(msg.metadata)
            msg, kind = cached_meta, cached.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = msg
        if kind == "new_session":
            self._run_started = time.perf_counter()
            self._run_is_fragment = bool(msg.metadata.run.fragment_ids)
            if not self._run_is_fragment:
                self._stop_ticks()
                self.widgets.clear()
            if msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
            self._run_page = msg.new_session.page_script_hash
        elif kind == "navigation":
            for page in msg.navigation.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self._element(tuple(msg.metadata.delta_path), msg.delta.new_element)
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid not in self._tick_tasks and not self.closed:
                self._tick_tasks[fid] = asyncio.get_running_loop().create_task(self._tick_loop(fid, interval))
        elif kind == "stop_auto_rerun":
            task = self._tick_tasks.pop(getattr(msg.stop_auto_rerun, "fragment_id", ""), None)
            if task is not None:
                task.cancel()
        elif kind == "script_finished":
            self._finished(msg.script_finished)

    def _finished(self, status: int) -> None:
        now = time.perf_counter()
        if status == FINISHED_FRAGMENT:
            served = [t for t in self._pending_ticks if t <= self._run_started]
            if served:
                self.stats.tick_latencies.append(now - served[0])
                self.stats.ticks_skipped += len(served) - 1
                self._pending_ticks = [t for t in self._pending_ticks if t > self._run_started]
            if self._last_redraw is not None:
                self.stats.max_redraw_gap = max(self.stats.max_redraw_gap, now - self._last_redraw)
            self._last_redraw = now
            self.stats.redraws.append(now)
            for listener in self.tick_listeners:
                listener(self)
        elif status in (FINISHED_OK, FINISHED_COMPILE_ERROR):
            if status == FINISHED_COMPILE_ERROR:
                self.stats.errors.append("script compile error")
            for fut in self._full_waiters:
                if fut.page_hash is None or not self._run_page or fut.page_hash == self._run_page:
                    self._full_waiters.remove(fut)
                    if not fut.done():
                        fut.set_result(status)
                    break

    def _element(self, path: tuple, el) -> None:
        self.elements[path] = el
        kind = el.WhichOneof("type")
        proto = getattr(el, kind) if kind else None
        wid = getattr(proto, "id", "") if proto is not None else ""
        if isinstance(wid, str) and wid.startswith("$$ID"):
            key = _key_of(wid)
            if key:
                self.widgets[key] = Widget(wid, kind, proto)
        if kind == "exception":
            self.stats.errors.append(f"exception: {el.exception.message[:200]}")
            return
        if kind == "plotly_chart" and isinstance(wid, str) and wid.endswith("-t_curves"):
            try:
                self.curve_points = curve_points(el.plotly_chart.spec)
            except (ValueError, KeyError, TypeError):
                pass
            return
        if kind not in TEXT_FIELDS:
            return
        body = getattr(proto, "body", "") or getattr(proto, "message", "") or getattr(proto, "text", "")
        if "Traceback" in body:
            self.stats.errors.append(f"traceback shown: {body[:200]}")
        for name, rows in DATA_SUMMARY.findall(body):
            self.stats.summaries.add((name, int(rows)))
        m = EPOCH_LABEL.search(body)
        if m:
            epoch = (int(m.group(1)), int(m.group(2)), m.group(3).strip())
            if epoch[0] != self.epoch[0]:
                self.epoch_seen.append((time.perf_counter(), epoch[0]))
            self.epoch = epoch
            f = FINISHED_IN.search(epoch[2])
            if f:
                self.finished_in = float(f.group(1).replace(",", "."))
        if kind == "alert":
            q = re.search(r"number (\d+) in the queue|número (\d+) de la cola", body)
            if q:
                pos = int(q.group(1) or q.group(2))
                self.stats.max_queue_position = max(self.stats.max_queue_position, pos)

    def texts(self) -> list[str]:
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind in TEXT_FIELDS:
                proto = getattr(el, kind)
                out.append(getattr(proto, "body", "") or getattr(proto, "message", ""))
        return out

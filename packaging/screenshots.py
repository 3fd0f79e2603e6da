"""Render the main window after real exchanges with the bundled model, for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py [--out resources/screenshots]

Each scene starts from an empty TokenDice home, loads SmolLM2-135M-Instruct, sends its messages with a
fixed seed, waits for the replies, clicks a token so the chart shows that step, and saves the window
as a PNG. Chinese text needs a CJK font (on Debian: apt install fonts-noto-cjk); emoji need
fonts-noto-color-emoji.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Scene:
    name: str
    messages: list[str]
    system: str = ""
    max_tokens: int = 48
    click: tuple[int, int] | None = (1, 3)  # (message index, token index) shown in the chart
    size: tuple[int, int] = (1600, 1000)
    settings: dict = field(default_factory=dict)


SCENES = [
    Scene("main-window", ["What is the tallest mountain in Taiwan?"], max_tokens=40, click=(1, 4)),
    Scene(
        "chinese",
        ["臺灣最高的山是哪座？"],
        system="You are a helpful assistant. Answer in Traditional Chinese.",
        max_tokens=32,
        click=(1, 1),
    ),
]


def render(scene: Scene, out: Path) -> Path:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.services import Services
    from desktop_app.ui.main_window import MainWindow

    os.environ["TOKENDICE_HOME"] = tempfile.mkdtemp(prefix="tokendice-shot-")
    app = QApplication.instance() or QApplication([])
    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"))
    window.resize(*scene.size)
    window.show()
    pending = list(scene.messages)
    target = out / f"{scene.name}.png"

    def send_next(*_args) -> None:
        if pending:
            window.controller.send(pending.pop(0))
            return
        if scene.click is not None:
            window.chat.token_clicked.emit(*scene.click)
        QTimer.singleShot(600, snap)

    def loaded(_model) -> None:
        settings = window.sampling.settings().replace(seed=7, **scene.settings)
        window.sampling.set_settings(settings)
        window.controller.set_settings(settings)
        window.sampling.set_max_tokens(scene.max_tokens)
        window.controller.max_tokens = scene.max_tokens
        window.chat.set_system_prompt(scene.system)
        send_next()

    def snap() -> None:
        window.grab().save(str(target))
        window.close()
        app.quit()

    window.model_loaded.connect(loaded)
    window.controller.finished.connect(send_next)
    QTimer.singleShot(300_000, app.quit)
    app.exec()
    services.close()
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
        print(render(scene, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Several answers side by side, generated on the engine's thread: the Compare view's own run (k answers
to the question at the settings, each with its own seed), and a lesson's run (one answer per system prompt,
asked one after the other and shown as one comparison, marked where the answers part)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject

from desktop_app.core.engine.compare import Comparison, answer_seeds, divergence
from desktop_app.core.lessons import Lesson
from desktop_app.ui.widgets.compare import CompareView
from desktop_app.ui.workers import CompareRequest, CompareStep

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class CompareRuns(QObject):
    def __init__(self, window: WindowHost, view: CompareView, language: str) -> None:
        """``language``: the lessons' (the interface's)."""
        super().__init__(window)
        self.window = window
        self.view = view
        self.language = language
        self._request: CompareRequest | None = None
        # A lesson's answers side by side: one request each, sent one after the other (the next ones
        # here), and the answers so far (None: the comparison running is not a lesson's).
        self._side_next: list[CompareRequest] = []
        self._side_done: list[Comparison] | None = None
        w = window.engine.worker
        w.compare_step.connect(self._on_step)
        w.compared.connect(self._on_compared)
        w.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self._request is not None

    def run(self, k: int) -> None:
        """``k`` answers to the question typed (or the chat's last), each with its own seed."""
        window, controller = self.window, self.window.controller
        if window.loaded is None or controller.busy or self._request is not None:
            return
        messages = list(controller.conversation())
        typed = window.chat.input.toPlainText().strip()
        if typed:
            messages.append({"role": "user", "content": typed})
        if not messages or messages[-1]["role"] != "user":
            self.view.failed(translate("Workshop", "Type a question first: the answers all reply to it."))
            return
        settings = controller.settings
        request = CompareRequest(tuple(messages), settings, k, controller.max_tokens, controller.plain)
        self._request = request
        self.view.start(k, answer_seeds(settings, k))
        window.show_dock("compare")
        window.engine.request_compare.emit(request)

    def stop(self) -> None:
        """Stop the answers being generated (a lesson's next ones are not asked for)."""
        self._side_next = []
        self.window.engine.cancel()

    def run_side_by_side(self, lesson: Lesson) -> None:
        """The lesson's answers side by side: its prompt once per answer, each with that answer's system
        prompt, at the lesson's settings (the same seed for each: only the system prompt differs)."""
        controller, language = self.window.controller, self.language
        prompt = {"role": "user", "content": lesson.text("prompt", language)}
        settings, n, plain = controller.settings, controller.max_tokens, controller.plain
        headers, requests = [], []
        for answer in lesson.side_by_side:
            system = answer.system_prompt(language)
            head = ({"role": "system", "content": system},) if system else ()
            requests.append(CompareRequest((*head, prompt), settings, 1, n, plain))
            if system:
                detail = translate("Workshop", "system prompt: “%1”").replace("%1", system)
            else:
                detail = translate("Workshop", "no system prompt")
            headers.append((answer.title(language), detail))
        self._side_next, self._side_done = requests, []
        seeds = [answer_seeds(r.settings, 1)[0] for r in requests]
        self.view.start(len(requests), seeds, headers)
        self._send_side()

    def _mine(self, request_id: int) -> bool:
        return self._request is not None and self._request.request_id == request_id

    def _on_step(self, event: CompareStep) -> None:
        if self._mine(event.request_id):
            side = self._side_done
            self.view.add_step(event.answer if side is None else len(side), event.step)

    def _on_compared(self, request_id: int, result: Comparison) -> None:
        if not self._mine(request_id):
            return
        self._request = None
        if self._side_done is None:
            self.view.done(result)
            return
        self._side_done.append(result)
        if self._side_next:
            self._send_side()
        else:
            self._side_finished()

    def _on_failed(self, request_id: int, message: str) -> None:
        if self._mine(request_id):
            self._request = None
            self._side_next, self._side_done = [], None
            self.view.failed(message)

    def _send_side(self) -> None:
        self._request = self._side_next.pop(0)
        self.window.engine.request_compare.emit(self._request)

    def _side_finished(self) -> None:
        """The lesson's answers are all in: one comparison of them, where each parts from the others."""
        parts, self._side_done = self._side_done or [], None
        answers = tuple(a for part in parts for a in part.answers)
        split = tuple(divergence([[s.token.id for s in a.steps] for a in answers]))
        seeds = tuple(seed for part in parts for seed in part.seeds)
        prompt_tokens = max((part.prompt_tokens for part in parts), default=0)
        evaluated = sum(part.prompt_evaluated for part in parts)
        result = Comparison(answers, seeds, split, prompt_tokens, evaluated)
        self.view.done(
            result,
            translate(
                "Workshop",
                "The same question at the same settings; only the system prompt differs. The marked token "
                "is where the answers part.",
            ),
        )

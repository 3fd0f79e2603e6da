"""A conversation over a model in this process: the terminal chat's, the benchmarks' and the tests'.

:class:`LocalChat` pairs a :class:`Conversation` with an :class:`EngineService` whose events it routes
back synchronously: a call such as :meth:`Conversation.send` returns once the reply has ended and been
saved. The window does the same over the engine process instead (``ui/controllers.py``).
"""

from __future__ import annotations

from desktop_app.core.conversation.conversation import Conversation, Listener
from desktop_app.core.engine.backend import EngineService
from desktop_app.core.engine.messages import LoadedModel, LoadRequest
from desktop_app.core.store.chats import ChatStore


class LoadFailed(RuntimeError):
    """The model could not be loaded: the engine's sentence."""


class LocalChat:
    """A conversation (:attr:`conversation`) over a model loaded here (:meth:`load`)."""

    def __init__(self, store: ChatStore, listener: Listener | None = None) -> None:
        # Each step is computed whole as it is made: a terminal streams every token at once and asks
        # for the last step's whole distribution (/probs), with nothing to batch for.
        self.service = EngineService(self._event, full_steps=True)
        self.conversation = Conversation(store, self.service, listener)
        self.model: LoadedModel | None = None
        self._load_error: str | None = None

    def load(self, request: LoadRequest) -> LoadedModel:
        """Load the model of ``request`` (the one loaded before is closed); raises :class:`LoadFailed`."""
        self._load_error = None
        self.service.load(request)
        if self._load_error is not None:
            raise LoadFailed(self._load_error)
        assert self.model is not None  # a load emits "loaded" or "load_failed"
        return self.model

    def _event(self, kind: str, *args: object) -> None:
        if kind == "loaded":
            self.model = args[0]  # type: ignore[assignment]
            self.conversation.model = self.model
        elif kind == "load_failed":
            self._load_error = str(args[0])
        elif kind == "unloaded":
            self.model = self.conversation.model = None
        else:
            self.conversation.handle(kind, *args)

    def close(self) -> None:
        self.service.close()

    def __enter__(self) -> LocalChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A conversation over a model in this process: the terminal chat's, the benchmarks' and the tests'.

:class:`LocalChat` pairs a :class:`Conversation` with an :class:`EngineService` whose events it routes
back synchronously: a call such as :meth:`Conversation.send` returns once the reply has ended and been
saved. The window does the same over the engine process instead (``ui/controllers.py``).
"""

from __future__ import annotations

from desktop_app.core.conversation.conversation import Conversation, Listener
from desktop_app.core.engine.backend import EngineService
from desktop_app.core.engine.messages import LoadedModel
from desktop_app.core.engine.tokens import TokenView
from desktop_app.core.store.chats import ChatStore


class LoadFailed(RuntimeError):
    """The model could not be loaded (or the server not used): the backend's sentence."""


class DirectChat:
    """A conversation (:attr:`conversation`) over a backend called directly in this thread, whose events
    come back before each call returns (:meth:`load`, and every call of the conversation)."""

    def __init__(self, store: ChatStore, listener: Listener | None, make_service) -> None:
        self.service = make_service(self._event)
        self.conversation = Conversation(store, self.service, listener)
        self.model: LoadedModel | None = None
        self._load_error: str | None = None

    def load(self, request: object) -> LoadedModel:
        """Load the model of ``request`` (the service's kind: a :class:`LoadRequest` for the local engine,
        a ``ServerLoadRequest`` for a server); the one before is closed. Raises :class:`LoadFailed`."""
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

    def token_view(self, token: int) -> TokenView:
        """How a token of the loaded model is shown."""
        raise NotImplementedError

    def close(self) -> None:
        self.service.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalChat(DirectChat):
    """A conversation over a model loaded here (:meth:`load` with a :class:`LoadRequest`)."""

    service: EngineService

    def __init__(self, store: ChatStore, listener: Listener | None = None) -> None:
        # Each step is computed whole as it is made: a terminal streams every token at once and asks
        # for the last step's whole distribution (/probs), with nothing to batch for.
        super().__init__(store, listener, lambda emit: EngineService(emit, full_steps=True))

    def token_view(self, token: int) -> TokenView:
        engine = self.service.engine
        return engine.token_view(token) if engine is not None else TokenView(token, b"")

"""What the window asks for to use a model on a server (:class:`ServerLoadRequest`), and the name the app
gives such a model; light to import (no HTTP client, no template engine) so that the window can start
without them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from desktop_app.core.remote.address import ServerAddress

if TYPE_CHECKING:
    from desktop_app.core.engine.messages import LoadedModel, LoadRequest


@dataclass(frozen=True)
class ServerLoadRequest:
    """Use the model ``model`` (None: the server's first) of the server at ``address``, with the chat
    template ``template_override`` instead of the server's (None: the server's)."""

    address: ServerAddress
    model: str | None = None
    template_override: str | None = None
    path = None  # no file here: what a local load request names

    @property
    def model_id(self) -> str:
        """How the app names the model (its saved settings and chats): the server, then the model."""
        return server_model_id(self.address.base, self.model)

    @property
    def display_name(self) -> str:
        return f"{self.model} @ {self.address.base}" if self.model else self.address.base


def server_model_id(base: str, model: str | None) -> str:
    return f"server:{base}/{model}" if model else f"server:{base}"


def is_answer_to(request: LoadRequest | ServerLoadRequest, model: LoadedModel) -> bool:
    """Whether ``model`` is what ``request`` asked for (not a load that a newer one superseded)."""
    if isinstance(request, ServerLoadRequest):
        return model.server == request.address.base
    return (model.model_id, model.path) == (request.model_id, request.path)


def loads_again(
    request: LoadRequest | ServerLoadRequest, model: LoadedModel
) -> LoadRequest | ServerLoadRequest:
    """The request that loads ``model`` again: a server's first model, once known, by its name."""
    if isinstance(request, ServerLoadRequest) and request.model is None and model.server:
        prefix = server_model_id(model.server, None) + "/"
        if model.model_id.startswith(prefix):
            return replace(request, model=model.model_id.removeprefix(prefix))
    return request

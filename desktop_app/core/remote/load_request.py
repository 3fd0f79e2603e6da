"""What the window asks for to use a model on a server (:class:`ServerLoadRequest`), and the name the app
gives such a model; light to import (no HTTP client, no template engine) so that the window can start
without them."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.remote.address import ServerAddress


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

"""How the window's model is served (:class:`ServeOptions`): light to import, so that the window can ask
for it without loading the HTTP server, which runs in the engine process."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

#: The most candidates a step may report (``top_logprobs``, ``logprobs``, ``n_probs``) unless raised.
DEFAULT_CAP = 100
#: The largest request body, unless raised (a long conversation is well under it).
DEFAULT_MAX_BODY = 1 << 20


@dataclass(frozen=True)
class ServeOptions:
    """How the window's model is served: where, with which key, the model's name and template."""

    model_id: str
    host: str = "127.0.0.1"
    port: int = 8080
    api_key: str | None = None
    template_override: str | None = None
    cap: int = DEFAULT_CAP
    max_waiting: int = 32
    max_body: int = DEFAULT_MAX_BODY
    cors: tuple[str, ...] = field(default=())

    @property
    def address(self) -> str:
        """Where clients find the API."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def check(self) -> None:
        """A ValueError with the sentence when these options must not be used."""
        if not is_loopback(self.host) and not self.api_key:
            raise ValueError(f"serving on {self.host} lets other machines in: give it an API key first")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"the port must be between 1 and 65535, not {self.port}")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

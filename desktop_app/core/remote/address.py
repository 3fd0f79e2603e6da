"""Where a model server is (:class:`ServerAddress`): light enough for the window to name servers at
start, before the HTTP client (:mod:`connection`) is imported by the first request."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ServerAddress:
    """Where a server is and how to reach it. ``api_key`` travels as a bearer token; ``verify``: check
    the server's TLS certificate (off only for a self-signed one the user trusts)."""

    url: str
    api_key: str | None = None
    verify: bool = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{self.url!r} is not a server address: give one like http://127.0.0.1:8080")

    @property
    def base(self) -> str:
        """The address without a trailing slash or an OpenAI-style ``/v1`` (added per endpoint)."""
        url = self.url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    def __repr__(self) -> str:  # never the key, not even in a log line
        key = ", api_key=…" if self.api_key else ""
        return f"ServerAddress({self.base!r}{key})"

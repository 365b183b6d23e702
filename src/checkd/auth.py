"""API token (configured, or generated once into the data dir) and the Host-header allow-list."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
from pathlib import Path

from checkd.config import Settings

TOKEN_BYTES = 32


class TokenError(Exception):
    """The token file cannot be read or written; the message says which and why."""


def read_token_file(path: Path) -> str | None:
    """The token stored at `path`, or None when there is no such file."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TokenError(f"cannot read the API token {path}: {exc.strerror}") from exc
    return token or None


def ensure_token(settings: Settings) -> tuple[str, bool]:
    """The API token and whether it was generated just now (then it is saved with mode 0600)."""
    if settings.auth.token is not None:
        return settings.auth.token.get_secret_value(), False
    path = settings.token_path
    existing = read_token_file(path)
    if existing:
        return existing, False
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another checkd process won the race; use its token.
        return read_token_file(path) or token, False
    except OSError as exc:
        raise TokenError(f"cannot write the API token to {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token, True


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """Host names (without port) accepted in the Host header: localhost, the bind address, our names."""
    names = {"localhost", "127.0.0.1", "::1", "[::1]", settings.server.host, settings.host_name}
    names.add(socket.gethostname())
    names.update(h.lower() for h in settings.server.allowed_hosts)
    return frozenset(n.lower() for n in names if n)


def host_header_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """True when the Host header names an allowed host (any port); an IP literal must be listed too."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in allowed or "*" in allowed:
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback

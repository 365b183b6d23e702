"""API token (configured, or generated once into the data dir) and the Host-header allow-list."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import secrets
import socket
import tempfile
from pathlib import Path

from checkd.config import Settings

TOKEN_BYTES = 32


class TokenError(Exception):
    """The token file cannot be read or written; the message says which and why."""


def read_token_file(path: Path) -> str | None:
    """The token stored at `path`, or None when there is no such file; TokenError when it is unusable."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TokenError(f"cannot read the API token file {path}: {exc.strerror}") from exc
    except ValueError:  # not UTF-8
        why = "is not text; write a token into it or remove it"
        raise TokenError(f"the API token file {path} {why}") from None
    if not token:
        # Generating a new token here would answer every client with 401 while saving nothing.
        raise TokenError(
            f"the API token file {path} is empty (an interrupted write?); "
            "write a token into it, or remove it to have a new one generated"
        )
    return token


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_token_file(path: Path, token: str) -> bool:
    """Save `token` at `path` whole or not at all (mode 0600); False when a token file already exists.

    Written to a temporary file in the same directory, fsynced, then linked into place: a crash
    or a full disk never leaves a partial file, and a token another process saved first is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # a rename that never replaces an existing file
        except FileExistsError:
            return False
        _fsync_dir(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


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
        saved = write_token_file(path, token)
    except OSError as exc:
        raise TokenError(f"cannot write the API token file {path}: {exc.strerror or exc}") from exc
    if not saved:  # another checkd process saved one first; use it
        return read_token_file(path) or token, False
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

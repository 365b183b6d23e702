"""Why an endpoint check is down, in one line, from the exception its run raised."""

from __future__ import annotations

import socket
import ssl

from checkd.endpoints.lookup import NameLookupTimeout

# httpx's timeout exceptions, by name (httpx is imported lazily, only where http checks exist).
_TIMEOUTS = {
    "ConnectTimeout": "connect timed out",
    "ReadTimeout": "read timed out",
    "WriteTimeout": "write timed out",
    "PoolTimeout": "timed out",
}


def _root(exc: BaseException) -> BaseException:
    """The innermost cause (httpx wraps httpcore's error, which was raised handling the socket's)."""
    seen = {id(exc)}
    inner = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen:
        exc = inner
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
    return exc


def describe_error(exc: BaseException) -> str:
    """A one-line reason: cannot resolve, refused, timed out, a TLS verification failure, ..."""
    if type(exc).__name__ in _TIMEOUTS:
        return _TIMEOUTS[type(exc).__name__]
    root = _root(exc)
    if isinstance(root, NameLookupTimeout):
        return str(root)
    if isinstance(root, socket.gaierror):
        return f"cannot resolve host: {root.strerror or root}"
    if isinstance(root, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {root.verify_message or root.reason}"
    if isinstance(root, ssl.SSLError):
        return f"TLS error: {root.reason or root}"
    if isinstance(root, ConnectionRefusedError):
        return "connection refused"
    if isinstance(root, TimeoutError):
        return "timed out"
    if isinstance(root, OSError) and root.strerror:
        return root.strerror
    text = str(root).strip().splitlines()
    return f"{type(root).__name__}: {text[0]}" if text else type(root).__name__

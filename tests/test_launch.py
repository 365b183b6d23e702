"""What a real `checkd serve` imports: nothing it never uses (each import stays resident)."""

from __future__ import annotations

import re
from collections.abc import Callable

from checkd_process import CheckdProcess

# Python's own import profiler (PYTHONPROFILEIMPORTTIME) names every module the process imports.
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.M)


def test_serve_never_imports_pydantic_v1_nor_alembic(make_server: Callable[..., CheckdProcess]) -> None:
    server = make_server(env={"PYTHONPROFILEIMPORTTIME": "1"})
    # Requests that build response models and answer HEAD: FastAPI asks about pydantic.v1 there.
    for path in ("/api/v2/checks?limit=1", "/api/v2/sampler", "/healthz"):
        assert server.get(path).status_code == 200
        assert server.client.head(path).status_code == 200
    imported = set(_IMPORTED.findall(server.log()))
    assert "fastapi" in imported and "checkd.api.app" in imported  # the profile covers serve
    # The server process (migrating its new database in a child) never loads these. A refused
    # `import pydantic.v1` is still profiled (it fails at once); a real one loads its submodules.
    assert not {m for m in imported if m.startswith(("pydantic.v1.", "alembic"))}

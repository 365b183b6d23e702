"""The `checkd` console script: `checkd agent` runs the lean agent before anything heavy is imported."""

from __future__ import annotations

import sys


def refuse_pydantic_v1() -> None:
    """Make `import pydantic.v1` fail in this process: checkd declares no pydantic.v1 model.

    FastAPI imports pydantic.v1 only to ask whether a route's model is one, and answers "no"
    when the import fails (as under a pydantic without v1); the import alone costs resident
    memory for the life of a server. Call it before FastAPI is imported."""
    sys.modules.setdefault("pydantic.v1", None)  # type: ignore[arg-type]  # None: the import system's "not importable"


def main() -> None:
    """Dispatch `checkd agent ...` to the agent (stdlib + psutil), anything else to the Typer CLI."""
    if len(sys.argv) > 1 and sys.argv[1] == "agent":
        from checkd.agent.main import main as agent_main

        agent_main(sys.argv[2:])
        return
    refuse_pydantic_v1()
    from checkd.cli import main as cli_main

    cli_main()

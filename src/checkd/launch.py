"""The `checkd` console script: `checkd agent` runs the lean agent before anything heavy is imported."""

from __future__ import annotations

import sys


def main() -> None:
    """Dispatch `checkd agent ...` to the agent (stdlib + psutil), anything else to the Typer CLI."""
    if len(sys.argv) > 1 and sys.argv[1] == "agent":
        from checkd.agent.main import main as agent_main

        agent_main(sys.argv[2:])
        return
    from checkd.cli import main as cli_main

    cli_main()

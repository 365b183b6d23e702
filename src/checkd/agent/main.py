"""`checkd agent` / `checkd-agent`: parse the options, then import the agent (lean: see below)."""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> None:
    """The agent's entry point."""
    from checkd.agent.options import parse_options

    options = parse_options(sys.argv[1:] if argv is None else argv)
    if not any(url.startswith("https:") for url in options.collectors):
        # No TLS to speak: http.client runs without the ssl module (as on a Python built without
        # it), which saves the OpenSSL libraries' memory in a process that stays up for months.
        sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    from checkd.agent.run import run

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(options)


if __name__ == "__main__":
    main()

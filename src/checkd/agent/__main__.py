"""`python -m checkd.agent` runs the fleet agent."""

from checkd.agent.main import main

main()

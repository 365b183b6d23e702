"""`python -m checkd.agent` runs the fleet agent."""

from checkd.agent.run import main

main()

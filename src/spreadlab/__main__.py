"""``python -m spreadlab`` runs the command-line interface."""

from spreadlab.cli.main import main

main()

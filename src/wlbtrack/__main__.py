"""Allow `python -m wlbtrack`."""

from wlbtrack.cli import main

main()

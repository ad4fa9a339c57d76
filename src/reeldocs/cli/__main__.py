"""`python -m reeldocs.cli`, the same command as the `reeldocs` script."""

from reeldocs.cli import main

main()

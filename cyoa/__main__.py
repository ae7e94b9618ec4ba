"""Allow ``python -m cyoa``."""

from cyoa.cli import main

main()

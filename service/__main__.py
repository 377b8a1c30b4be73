"""`python -m service ...`: the staff and maintenance commands."""

from service.cli import main

main()

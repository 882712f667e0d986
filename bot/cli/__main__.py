"""`python -m bot.cli`: the `werkmaatje` command."""

import sys

from bot.cli import main

sys.exit(main())

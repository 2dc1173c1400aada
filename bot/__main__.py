"""Allows ``python -m bot`` as an alias of the ``kuemmerer`` console script."""

from bot.cli import main

raise SystemExit(main())

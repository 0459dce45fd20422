"""``python -m wsgisession``: the same as the ``wsgisession`` command."""

from .cli import main

raise SystemExit(main())

"""``python -m pipelines.sample [--scale S] [--out DIR]``."""

from .cli import main

raise SystemExit(main())

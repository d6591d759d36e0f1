"""``python -m specnb.sweep FILE ...``: the same as ``specnb sweep FILE ...``."""

import sys

from .cli import main

sys.exit(main())

"""``python -m specnb``: the same as the ``specnb`` console script."""

import sys

from specnb.cli import main

sys.exit(main())

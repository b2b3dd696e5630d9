"""``python -m modstudio``: the same as the ``modstudio`` command."""

import sys

from modstudio.cli import main

sys.exit(main())

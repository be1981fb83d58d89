"""``python -m checks`` runs the ``scoru`` command line."""

import sys

from checks.cli import main

sys.exit(main())

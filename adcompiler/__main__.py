"""``python -m adcompiler`` is the ``adcompiler`` command."""
import sys

from .cli import main

sys.exit(main())

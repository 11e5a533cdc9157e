"""``python -m runner`` is ``flowbot``."""
import sys

from runner.cli import main

sys.exit(main())

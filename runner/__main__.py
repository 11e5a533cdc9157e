"""``python -m runner`` is ``flowbot``."""
import sys

from runner.cli_process import console

sys.exit(console())

"""The loader tests share helpers in loader_helpers.py beside this file (tests are not a package)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

"""The task API's tests share tests/unit's Kube stand-in (fakekube.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # fakekube

"""The TLS tests share tests/unit's Kube stand-in (fakekube.py) and tests/certs.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # fakekube
sys.path.insert(0, str(Path(__file__).parents[2]))  # certs

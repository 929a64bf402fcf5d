"""The TLS tests share tests/unit's stand-ins (fakekube.py) and certificate maker (certs.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "chaos"))  # the suite's modules
sys.path.insert(0, str(Path(__file__).parents[2]))  # certs

"""Hardening tests (issue 21): hostile input to both HTTP surfaces, and the fuzz tier.

UPDRAFT_FUZZ_EXAMPLES sets how many requests each fuzz property tries (default 60: a few seconds
in `make unit`; `make test` runs more). The seed is fixed (UPDRAFT_FUZZ_SEED, default 21), so a
failure reproduces; Hypothesis prints the shrunk request that failed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))  # fakekube

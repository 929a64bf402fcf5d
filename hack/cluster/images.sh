#!/usr/bin/env bash
# Build the project's images and load them into the node (filled in with the Dockerfiles).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

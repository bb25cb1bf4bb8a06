#!/usr/bin/env bash
# The main job on the bundled example, end to end, with the same CLI verbs a user types.
# Usage: examples/demo.sh OUT_DIR   (make demo runs it inside .venv)
set -euo pipefail
OUT=${1:-demo_out}
mkdir -p "$OUT"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- data (issue: foundation) ----------------------------------------------------------------
# --- training and evaluation -----------------------------------------------------------------
# --- transformers ----------------------------------------------------------------------------
# --- variants --------------------------------------------------------------------------------
# --- interpretation --------------------------------------------------------------------------
# --- report ----------------------------------------------------------------------------------
say "done: outputs in $OUT"

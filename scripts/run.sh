#!/usr/bin/env bash
# Builds chronus (installing what the build needs) and starts the synth.
#   bash scripts/run.sh                       the null backend until Ctrl-C
#   bash scripts/run.sh --record take.wav     any `chronus run` option
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build_tools
cargo build --release --locked -p chronus
exec ./target/release/chronus run "$@"

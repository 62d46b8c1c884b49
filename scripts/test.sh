#!/usr/bin/env bash
# The whole chronus test suite, from a fresh Debian machine (as root) or a developer's box.
#
#   bash scripts/test.sh            install what is missing, then lint, test and check policy
#   CHRONUS_NO_INSTALL=1 ...        never install anything (fail if something is missing)
#   CHRONUS_SOAK=1 ...              also run the long soak tests (not part of CI)
#
# Prints a closing line "N passed, N failed" for the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
# liblo's oscsend: a client that is not ours, for the OSC interop test. JACK: the headers the
# jack crate builds against, the server (dummy driver) and jack_capture for the JACK tests.
ensure_apt liblo-tools libjack-jackd2-dev jackd2 jack-capture libasound2-dev libasound2-plugins alsa-utils
ensure_cargo_tool cargo-nextest cargo-nextest
ensure_cargo_tool cargo-deny cargo-deny

# JACK servers killed without a chance to clean up leave entries in /dev/shm that count
# against JACK's limit of servers; with no jackd running, none of them is live.
if ! pgrep -x jackd >/dev/null 2>&1; then
    rm -f /dev/shm/jack-* /dev/shm/jack_* 2>/dev/null || true
fi

failed=0
passed=0
step() {  # step NAME COMMAND...
    local name=$1; shift
    echo "==> $name"
    if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name" >&2; failed=$((failed + 1)); fi
}

step "format" cargo fmt --all -- --check
step "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
# Tests that run real-time workers against a clock measure "no lost sample": they get the
# machine to themselves (one at a time, nothing else running), everything else runs in parallel.
realtime='binary(/^(failover|lifecycle|run|osc|jack|alsa|say)$/)'
tests() {  # tests NAME CARGO-ARGS...
    local name=$1; shift
    step "$name: tests" cargo nextest run --locked --no-fail-fast --no-tests=pass "$@" -E "not $realtime"
    step "$name: real-time tests, one at a time" \
        cargo nextest run --locked --no-fail-fast --no-tests=pass --test-threads 1 "$@" -E "$realtime"
}

tests "workspace" --workspace
step "doc tests" cargo test --workspace --doc --locked
for crate in $(workspace_crates); do
    tests "$crate on its own (no default features)" -p "$crate" --no-default-features
done
step "dependency policy (cargo deny)" cargo deny --locked check bans licenses sources

echo
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

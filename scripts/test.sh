#!/usr/bin/env bash
# The whole chronus test suite, from a fresh Debian machine (as root) or a developer's box.
#
#   bash scripts/test.sh            install what is missing, then lint, test and check policy
#   CHRONUS_NO_INSTALL=1 ...        never install anything (fail if something is missing)
#   CHRONUS_SOAK=1 ...              the soak and the control-load test for ten minutes each
#                                   (CI: 60 s and 20 s)
#
# Closes with two lines: "checks: N passed, N failed" (the steps below) and
# "tests: N passed, N failed" (every test that nextest ran, added up).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
if [ "${CHRONUS_SOAK:-0}" = 1 ]; then
    export CHRONUS_SOAK_SECONDS=${CHRONUS_SOAK_SECONDS:-600} CHRONUS_LOAD_SECONDS=${CHRONUS_LOAD_SECONDS:-600}
    export NEXTEST_PROFILE=soak
fi

ensure_build_tools
# What the tests need besides the build (scripts/lib.sh has the build's own packages):
# liblo's oscsend, a client that is not ours, for the OSC interop test; the JACK server (dummy
# driver) and jack_capture for the JACK tests; ALSA's plugins (file, jack) and utilities for
# the ALSA tests; bsdutils: `script`, the pseudo-terminal for the `chronus say` prompt test;
# tmux: `chronus jam`; flac, vorbis-tools and lame: the encoders that make the sample decoding
# tests' FLAC, Ogg Vorbis and MP3 files.
ensure_apt liblo-tools jackd2 jack-capture libasound2-plugins alsa-utils bsdutils tmux flac vorbis-tools lame
ensure_mcp_client
ensure_cargo_tool cargo-nextest cargo-nextest
ensure_cargo_deny

# JACK servers killed without a chance to clean up leave entries in /dev/shm that count
# against JACK's limit of servers; with no jackd running, none of them is live.
if ! pgrep -x jackd >/dev/null 2>&1; then
    rm -f /dev/shm/jack-* /dev/shm/jack_* 2>/dev/null || true
fi

failed=0
passed=0
tests_passed=0
tests_failed=0
log=$(mktemp)
# Timing-sensitive tests that failed while the machine stalled and were run again
# (tests/support/stalls.rs): listed at the end, so that a retry is never silent.
export CHRONUS_STALL_LOG
CHRONUS_STALL_LOG=$(mktemp)
trap 'rm -f "$log" "$CHRONUS_STALL_LOG"' EXIT
step() {  # step NAME COMMAND...
    local name=$1; shift
    echo "==> $name"
    local start=$SECONDS
    if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name" >&2; failed=$((failed + 1)); fi
    # How long each step took: what a run's time is spent on, for whoever keeps CI short.
    echo "<== $name: $((SECONDS - start)) s"
}
# nextest NEXTEST-ARGS...: runs nextest and adds its summary ("N tests run: N passed, N failed")
# to the run's totals.
nextest() {
    local status=0
    cargo nextest run --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
    local summary run ok bad
    summary=$(grep -E '^ *Summary .* tests? run:' "$log" | tail -n 1 || true)
    run=$(sed -nE 's/.* ([0-9]+) tests? run:.*/\1/p' <<<"$summary")
    ok=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")
    bad=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
    # A test that hangs past its limit counts as failed too.
    local hung
    hung=$(sed -nE 's/.* ([0-9]+) timed out.*/\1/p' <<<"$summary")
    bad=$(( ${bad:-0} + ${hung:-0} ))
    tests_passed=$((tests_passed + ${ok:-0}))
    tests_failed=$((tests_failed + ${bad:-0}))
    if [ "${run:-0}" -eq 0 ]; then
        echo "no test ran" >&2
        return 1
    fi
    return "$status"
}
# has_tests FILTER CARGO-ARGS...: whether the filter selects at least one test.
has_tests() {
    local filter=$1; shift
    cargo nextest list --locked "$@" -E "$filter" --message-format oneline 2>/dev/null | grep -q .
}

step "build packages cover every linked native library" bash scripts/check-packages.sh
step "format" cargo fmt --all -- --check
step "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
step "doc tests" cargo test --workspace --doc --locked
# Private items too: their doc comments' links are checked as the public ones are.
step "documentation builds without warnings" env RUSTDOCFLAGS="-D warnings" \
    cargo doc --workspace --no-deps --document-private-items --locked --quiet
# Every crate's examples build (clippy --all-targets above); those that need no device run
# (optimised like the tests: unoptimised DSP can be too slow for real time). One build with the
# workspace's features, which reuses what the doc tests built; `cargo run -p` would build each
# package again with its own features (minutes on 2 cores).
examples() {
    local built
    built=$(cargo build --locked --profile test --workspace --examples --message-format json) || return 1
    example() {  # example NAME ARGS...: runs the example built above
        local name=$1; shift
        local exe
        exe=$(grep -o "\"executable\":\"[^\"]*/examples/$name\"" <<<"$built" | cut -d'"' -f4)
        [ -n "$exe" ] || { echo "example $name was not built" >&2; return 1; }
        "$exe" "$@"
    }
    example render &&
        example plan "play an A minor chord" &&
        example own_backend &&
        example serve
}
step "examples run" examples
# Tests that run real-time workers against a clock measure "no lost sample": they get the
# machine to themselves (one at a time, nothing else running), everything else runs in parallel.
realtime='binary(/^(failover|lifecycle|run|osc|bench|mcp|jack|alsa|say|jam|tour|soak|session|samples|midi)$/)'
tests() {  # tests NAME CARGO-ARGS...
    local name=$1; shift
    if has_tests "not $realtime" "$@"; then
        step "$name: tests" nextest "$@" -E "not $realtime"
    elif ! has_tests "$realtime" "$@"; then
        # Nothing to run in this configuration: that it builds, tests included, is the check.
        step "$name: builds (no tests in this configuration)" cargo build --locked --all-targets "$@"
    fi
    if has_tests "$realtime" "$@"; then
        bash scripts/quiet.sh
        local before=$failed
        step "$name: real-time tests, one at a time" nextest --test-threads 1 "$@" -E "$realtime"
        # What ran beside them, for whoever reads the failure.
        [ "$failed" -eq "$before" ] || bash scripts/quiet.sh
    fi
}

tests "workspace" --workspace
# On its own, a crate builds and passes every test with only its own features. Its fuzzers and
# its control-load test, which the workspace run above gave their full time (the same tests),
# run briefly here (2 s of fuzzing after the corpus; 5 s of load) unless told otherwise.
for crate in $(workspace_crates); do
    CHRONUS_FUZZ_SECONDS=${CHRONUS_FUZZ_SECONDS:-2} CHRONUS_LOAD_SECONDS=${CHRONUS_LOAD_SECONDS:-5} \
        tests "$crate on its own (no default features)" -p "$crate" --no-default-features
done
step "dependency policy (cargo deny)" cargo deny --locked check bans licenses sources

echo
if [ -s "$CHRONUS_STALL_LOG" ]; then
    echo "run again after failing while the machine stalled ($(wc -l <"$CHRONUS_STALL_LOG") attempts):"
    sed 's/^/  /' "$CHRONUS_STALL_LOG"
else
    echo "no test was run again for a machine stall"
fi
echo "whole run: $SECONDS s"
echo "checks: $passed passed, $failed failed"
echo "tests: $tests_passed passed, $tests_failed failed"
[ "$failed" -eq 0 ]

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
ensure_cargo_tool cargo-nextest cargo-nextest
ensure_cargo_tool cargo-deny cargo-deny

failed=0
passed=0
step() {  # step NAME COMMAND...
    local name=$1; shift
    echo "==> $name"
    if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name" >&2; failed=$((failed + 1)); fi
}

step "format" cargo fmt --all -- --check
step "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
step "tests (nextest, whole workspace)" cargo nextest run --workspace --locked --no-fail-fast
step "doc tests" cargo test --workspace --doc --locked
for crate in $(workspace_crates); do
    step "$crate on its own (no default features)" cargo test -p "$crate" --no-default-features --locked --quiet
done
step "dependency policy (cargo deny)" cargo deny --locked check bans licenses sources

echo
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

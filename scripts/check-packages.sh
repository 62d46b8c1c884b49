#!/usr/bin/env bash
# Checks that scripts/lib.sh's BUILD_PACKAGES installs every native library the build links:
# each `links` key of the packages cargo resolves for this machine (default features) must be
# in NATIVE_LIBRARIES, its package in BUILD_PACKAGES, and that package (where installed) must
# ship the library's pkg-config file. So `bash scripts/run.sh` on a fresh machine installs what
# the build needs, not only `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

host=$(rustc -vV | sed -n 's/^host: //p')
links=$(cargo metadata --locked --format-version 1 --filter-platform "$host" |
    python3 -c '
import json, sys
m = json.load(sys.stdin)
used = {n["id"] for n in m["resolve"]["nodes"]}
for p in m["packages"]:
    if p.get("links") and p["id"] in used:
        print(p["links"], p["name"])
')
status=0
while read -r key crate; do
    [ -n "$key" ] || continue
    pkg=""
    for entry in "${NATIVE_LIBRARIES[@]}"; do
        [ "${entry%%:*}" = "$key" ] && pkg=${entry#*:}
    done
    if [ -z "$pkg" ]; then
        echo "check-packages: $crate links '$key', which has no entry in NATIVE_LIBRARIES (scripts/lib.sh): add 'KEY:DEBIAN-PACKAGE' and the package to BUILD_PACKAGES" >&2
        status=1
        continue
    fi
    if ! printf '%s\n' "${BUILD_PACKAGES[@]}" | grep -qx "$pkg"; then
        echo "check-packages: $crate links '$key' from $pkg, which BUILD_PACKAGES (scripts/lib.sh) does not install: add it" >&2
        status=1
        continue
    fi
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        if ! dpkg -L "$pkg" | grep -q "/pkgconfig/$key\.pc$"; then
            echo "check-packages: $pkg (for '$key' of $crate) ships no $key.pc: is it the right package?" >&2
            status=1
            continue
        fi
    fi
    echo "check-packages: $crate links '$key': $pkg"
done <<<"$links"
exit "$status"

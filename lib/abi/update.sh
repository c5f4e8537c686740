#!/bin/sh
# Regenerate lib/abi/libhugepfn.abi, the ABI baseline the "abi" test
# compares libhugepfn.so.1 with (lib/README.md, "ABI"), from a build
# directory (default: build; tests/run.sh's). Usage: lib/abi/update.sh [BUILDDIR]
# Review the diff before committing it: it is the ABI promised from then on.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
[ -f "$build/build.ninja" ] || { echo "error: $build is no Meson build directory (meson setup $build $root)" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "error: the baseline is x86_64's; run this on x86_64" >&2; exit 1; }
meson compile -C "$build" lib/hugepfn:shared_library >/dev/null
exec python3 "$root/tests/abi/check_abi.py" --update "$root/lib/abi/libhugepfn.abi" \
	"$root/lib/include" "$build/lib/libhugepfn.so.1"

#!/bin/sh
# Regenerate the ABI baseline the "abi" and "macros" tests compare with
# (lib/README.md, "ABI"): lib/abi/libhugepfn.abi, libhugepfn.so.1's ABI as
# abidw describes it, from a build directory (default: build; tests/run.sh's),
# and lib/abi/libhugepfn.macros, the values of hugepfn.h's HUGEPFN_* macros
# (evaluated with $CC, default cc). Usage: lib/abi/update.sh [BUILDDIR]
# Review the diff before committing it: it is the ABI promised from then on.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
[ -f "$build/build.ninja" ] || { echo "error: $build is no Meson build directory (meson setup $build $root)" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "error: the baseline is x86_64's; run this on x86_64" >&2; exit 1; }
meson compile -C "$build" lib/hugepfn:shared_library >/dev/null
python3 "$root/tests/abi/check_abi.py" --update "$root/lib/abi/libhugepfn.abi" \
	"$root/lib/include" "$build/lib/libhugepfn.so.1"
# shellcheck disable=SC2086 # CC may be a command with arguments ("ccache cc")
exec python3 "$root/tests/abi/check_macros.py" --update "$root/lib/abi/libhugepfn.macros" \
	"$root/lib/include/hugepfn.h" ${CC:-cc}

#!/bin/sh
# Make the installed static library: static-archive.sh OUT.a IN.a OBJCOPY AR CC...
#
# IN.a holds libhugepfn's objects, whose internal functions (hpfn_*) are
# hidden but global, so that a program linking the archive could call them
# or clash with them. They are partially linked into one object (cc -r),
# every hidden symbol of which is then made local (objcopy
# --localize-hidden): OUT.a defines exactly the HUGEPFN_API functions, as
# libhugepfn.so.1 exports them (tests/abi/check_exports.py checks both).
set -eu
out=$1 in=$2 objcopy=$3 ar=$4
shift 4
tmp=$out.tmp.d
rm -rf "$tmp" "$out"
mkdir -p "$tmp"
"$@" -r -nostdlib -o "$tmp/libhugepfn.o" -Wl,--whole-archive "$in" -Wl,--no-whole-archive
"$objcopy" --localize-hidden "$tmp/libhugepfn.o"
"$ar" rcsD "$out" "$tmp/libhugepfn.o"
rm -rf "$tmp"

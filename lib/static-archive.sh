#!/bin/sh
# Make the installed static library:
#   static-archive.sh OUT.a IN.a OBJCOPY AR READELF CC... [LINK_ARGS...]
#
# IN.a holds libhugepfn's objects, whose internal functions (hpfn_*) are
# hidden but global, so that a program linking the archive could call them
# or clash with them. They are partially linked into one object (CC -r,
# with the build's link arguments: -m32 and the like decide the output's
# format), every hidden symbol of which is then made local (objcopy
# --localize-hidden): OUT.a defines exactly the HUGEPFN_API functions, as
# libhugepfn.so.1 exports them (tests/abi/check_exports.py checks both).
#
# The objects must be machine code, not LTO intermediate code (lib/meson.build
# builds them with -fno-lto): objcopy cannot localize what is only in an
# LTO section, so such an object is refused here rather than installed.
set -eu
out=$1 in=$2 objcopy=$3 ar=$4 readelf=$5
shift 5
tmp=$out.tmp.d
rm -rf "$tmp" "$out"
mkdir -p "$tmp"
# After the link arguments: no LTO (-flto=auto in LDFLAGS), and no
# --gc-sections, which a partial link without an entry point refuses.
"$@" -fno-lto -Wl,--no-gc-sections -r -nostdlib -o "$tmp/libhugepfn.o" \
	-Wl,--whole-archive "$in" -Wl,--no-whole-archive
if "$readelf" -S -W "$tmp/libhugepfn.o" | grep -q '\.gnu\.lto_'; then
	echo "static-archive.sh: $in holds LTO objects (.gnu.lto_* sections), whose hidden symbols objcopy cannot make local; build them with -fno-lto (lib/meson.build)" >&2
	rm -rf "$tmp"
	exit 1
fi
"$objcopy" --localize-hidden "$tmp/libhugepfn.o"
"$ar" rcsD "$out" "$tmp/libhugepfn.o"
rm -rf "$tmp"

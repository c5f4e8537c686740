#!/usr/bin/env bash
# Fetch Debian's stock 6.12 cloud kernel and its headers (unpacked into the
# cache, never installed on the host) and prepare a tree for building
# out-of-tree modules against it. Prints the directory:
#   vmlinuz, config, release, modules/ (the image's lib/modules tree),
#   build -> the headers tree for 'make -C build M=...'
set -euo pipefail
. "$(dirname "$0")/common.sh"

case "${1:-}" in
	-h|--help)
		echo "Usage: tests/vm/stock-kernel.sh"
		echo "Fetches linux-image-$STOCK_KVER-unsigned $STOCK_DEBVER and its headers into \$HUGEPFN_CACHE/stock and prints that directory."
		exit 0 ;;
	"") ;;
	*) die "unknown argument '$1' (try --help)" ;;
esac

need_packages xz-utils kmod build-essential libelf-dev

SDIR=$HUGEPFN_CACHE/stock/$STOCK_KVER
if [ -f "$SDIR/.complete" ]; then
	echo "$SDIR"
	exit 0
fi

debs=(
	"linux-image-$STOCK_KVER-unsigned"
	"linux-headers-$STOCK_KVER"
	"linux-headers-${STOCK_KVER%-cloud-amd64}-common"
	"linux-kbuild-${STOCK_KVER%-cloud-amd64}"
)
rm -rf "$SDIR"
mkdir -p "$SDIR/debs" "$SDIR/root"
say "downloading the stock kernel $STOCK_KVER ($STOCK_DEBVER) and its headers (~50 MB)"
apt_update_once
for d in "${debs[@]}"; do
	(cd "$SDIR/debs" && apt-get download -q "$d=$STOCK_DEBVER" >/dev/null 2>&1) ||
		die "could not download $d=$STOCK_DEBVER; is bookworm-security in the apt sources? (set STOCK_KVER/STOCK_DEBVER to another version listed by 'apt-cache search linux-image-6.12')"
done
for f in "$SDIR"/debs/*.deb; do
	dpkg-deb -x "$f" "$SDIR/root"
done
cp "$SDIR/root/boot/vmlinuz-$STOCK_KVER" "$SDIR/vmlinuz"
cp "$SDIR/root/boot/config-$STOCK_KVER" "$SDIR/config"
echo "$STOCK_KVER" > "$SDIR/release"
ln -sfn "root/lib/modules/$STOCK_KVER" "$SDIR/modules"
# The headers package points its build symlink at /usr/src; point it into the
# unpacked tree instead, and its kbuild scripts at the unpacked kbuild package.
hdr=$SDIR/root/usr/src/linux-headers-$STOCK_KVER
ln -sfn "$hdr" "$SDIR/build"
for l in "$hdr"/scripts "$hdr"/tools; do
	[ -L "$l" ] || continue
	t=$(readlink "$l")
	case "$t" in
		/*) ln -sfn "$SDIR/root$t" "$l" ;;
	esac
done
find "$SDIR/root/usr/src" -maxdepth 3 -type l | while read -r l; do
	t=$(readlink "$l")
	case "$t" in
		/usr/*) ln -sfn "$SDIR/root$t" "$l" ;;
	esac
done
# The headers' Makefile includes the common headers by absolute path.
sed -i "s#^include /usr/src/#include $SDIR/root/usr/src/#" "$hdr/Makefile"
rm -rf "$SDIR/debs"
touch "$SDIR/.complete"
say "stock kernel ready in $SDIR"
echo "$SDIR"

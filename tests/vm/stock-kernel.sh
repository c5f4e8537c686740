#!/usr/bin/env bash
# Fetch Debian's stock cloud kernel of one Linux version (6.12 by default,
# --linux 7.3) and what out-of-tree modules need to build against it
# (unpacked into the cache, never installed on the host), and prepare a
# tree for building them. Prints the directory:
#   vmlinuz, config, release, modules/ (the kernel's lib/modules tree),
#   build -> the tree for 'make -C build M=...'
set -euo pipefail
. "$(dirname "$0")/common.sh"

usage() {
	cat <<USAGE
Usage: tests/vm/stock-kernel.sh [--linux VERSION]

Fetches Debian's stock cloud kernel of that Linux version (6.12, the
default, or 7.3) into \$HUGEPFN_CACHE/stock/KVER and prints that directory:
  6.12: linux-image-KVER-unsigned and its headers (the host's apt sources);
  7.3:  linux-binary-unsigned-KVER, linux-base-KVER, linux-modules-KVER and
        the headers' Module.symvers (trixie-backports, through a private apt
        configuration in the cache), with a module build tree prepared from
        the pristine linux-source-7.3 and the stock config.
The versions are pinned in tests/vm/common.sh (linux_select).
USAGE
}

linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--linux)
			[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
			linux=$2
			shift
			;;
		--linux=*) linux=${1#--linux=} ;;
		*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done
linux_select "$linux"

need_packages xz-utils kmod build-essential libelf-dev

SDIR=$HUGEPFN_CACHE/stock/$STOCK_KVER
if [ -f "$SDIR/.complete" ]; then
	echo "$SDIR"
	exit 0
fi

kbuild=${STOCK_KVER%-cloud-amd64}
case "$STOCK_LAYOUT" in
	image)
		debs=("linux-image-$STOCK_KVER-unsigned" "linux-headers-$STOCK_KVER"
			"linux-headers-$kbuild-common" "linux-kbuild-$kbuild") ;;
	binary)
		# Only the headers' Module.symvers is used (below): their kbuild
		# package is not needed.
		debs=("linux-binary-unsigned-$STOCK_KVER" "linux-base-$STOCK_KVER"
			"linux-modules-$STOCK_KVER" "linux-headers-$STOCK_KVER") ;;
esac
rm -rf "$SDIR"
mkdir -p "$SDIR/debs" "$SDIR/root"
say "downloading the stock kernel $STOCK_KVER ($STOCK_DEBVER) and its headers (~50 MB)"
kernel_apt_update
for d in "${debs[@]}"; do
	(cd "$SDIR/debs" && kernel_apt_get download -q "$d=$STOCK_DEBVER" >/dev/null 2>&1) ||
		die "could not download $d=$STOCK_DEBVER (its pin is in tests/vm/common.sh; $([ "$KERNEL_APT" = host ] &&
			echo "is bookworm-security in the apt sources?" || echo "is deb.debian.org reachable?"))"
done
for f in "$SDIR"/debs/*.deb; do
	dpkg-deb -x "$f" "$SDIR/root"
done
echo "$STOCK_KVER" > "$SDIR/release"

if [ "$STOCK_LAYOUT" = binary ]; then
	# Everything lives under /usr/lib/modules/KVER: vmlinuz.unsigned
	# (linux-binary-unsigned), config (linux-base), kernel/ (linux-modules).
	mods=$SDIR/root/usr/lib/modules/$STOCK_KVER
	cp "$mods/vmlinuz.unsigned" "$SDIR/vmlinuz"
	cp "$mods/config" "$SDIR/config"
	ln -sfn "root/usr/lib/modules/$STOCK_KVER" "$SDIR/modules"
	# Debian 7.3's headers need gcc-14 (Depends: gcc-14-for-host), which
	# Debian 12 lacks, and do not work with its gcc-12 (tried: make -C
	# linux-headers-KVER M=kernel/driver CC=gcc): their config was made by
	# gcc-14, so every compile gets -fmin-function-alignment=16, which gcc-12
	# does not know, and kbuild warns that pahole 1.24 is not the kernel's
	# 1.30. So the module build tree is prepared here from the same pristine
	# source (linux-source-7.3 at the same version, the tarball
	# kernel/build.sh unpacks) with the stock config, olddefconfig'd for
	# this compiler, and the stock kernel's Module.symvers (from its headers
	# package), and the stock release as KERNELRELEASE: the modules' vermagic
	# is the stock kernel's, and they load there (unsigned: taint E).
	# olddefconfig changes only what the compiler and tools offer (gcc-14's
	# CC_HAS_* options, the pahole version, no Rust), which lays out no
	# structure a module shares with the kernel differently.
	tarball=$(kernel_source_tarball)
	src=$SDIR/src
	say "preparing a module build tree for $STOCK_KVER from $(basename "$tarball") (one time, ~2 min)"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	cp "$SDIR/config" "$src/.config"
	cp "$SDIR/root/usr/src/linux-headers-$STOCK_KVER/Module.symvers" "$src/Module.symvers"
	# RUSTC=false: no Rust for out-of-tree C modules (Kconfig drops it).
	if ! make -C "$src" RUSTC=false KERNELRELEASE="$STOCK_KVER" olddefconfig modules_prepare \
		> "$SDIR/prepare.log" 2>&1; then
		tail -n 30 "$SDIR/prepare.log" >&2
		die "make modules_prepare for $STOCK_KVER failed; log: $SDIR/prepare.log"
	fi
	[ "$(make -s -C "$src" KERNELRELEASE="$STOCK_KVER" kernelrelease)" = "$STOCK_KVER" ] ||
		die "the module build tree's release is not $STOCK_KVER"
	# Kbuild of an external module reads KERNELRELEASE from
	# include/config/kernel.release, which modules_prepare wrote.
	ln -sfn src "$SDIR/build"
	rm -rf "$SDIR/root/usr/src"
else
	cp "$SDIR/root/boot/vmlinuz-$STOCK_KVER" "$SDIR/vmlinuz"
	cp "$SDIR/root/boot/config-$STOCK_KVER" "$SDIR/config"
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
fi
rm -rf "$SDIR/debs"
touch "$SDIR/.complete"
say "stock kernel ready in $SDIR"
echo "$SDIR"

#!/usr/bin/env bash
# Build what the guest runs for one kernel: the userspace (Meson), the test
# module against that kernel's build tree, and the initramfs.
# Usage: tests/vm/build-guest.sh KIND MODULE_KDIR RELEASE [OUTNAME [ARCH [LINUX]]]
# ARCH is x86_64 (the default) or arm64, whose guest gets the static test
# programs only (cross-built; the library tests need libpci and DPDK, which
# Debian ships for arm64 only as foreign-architecture packages). LINUX is
# the kernel's Linux version, 6.12 (the default) or 7.3: its series decides
# whether the patched kernel has the series' kselftest, and its source gives
# the upstream mm selftests.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ $# -ge 3 ] && [ $# -le 6 ] || die "usage: tests/vm/build-guest.sh patched|stock|base MODULE_KDIR RELEASE [OUTNAME [ARCH [LINUX]]]"
kind=$1 module_kdir=$2 release=$3 arch=${5:-x86_64} linux=${6:-6.12}
linux_select "$linux"
out=$HUGEPFN_BUILD/vm/${4:-$kind}
stage=$out/root
case "$arch" in
	x86_64) kmake_arch=() cc=gcc ubuild=$HUGEPFN_BUILD ;;
	arm64)
		kmake_arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) cc=aarch64-linux-gnu-gcc
		ubuild=$HUGEPFN_BUILD/cross-arm64
		;;
	*) die "build-guest.sh: no guest for architecture '$arch' (x86_64 or arm64)" ;;
esac

if [ "$arch" = x86_64 ]; then
	# Userspace: one Meson build directory for host tests and guest
	# programs, built against the 6.12 uAPI headers (the VFIO cdev backend
	# needs them), for the guests of every Linux version: the uAPI only
	# grows, and one build serves every run.
	HUGEPFN_KERNEL_UAPI=${HUGEPFN_KERNEL_UAPI:-$("$HUGEPFN_ROOT/kernel/build.sh" --uapi)}
	meson_setup_build || die "meson setup of $HUGEPFN_BUILD failed"
else
	[ -f "$ubuild/build.ninja" ] ||
		meson setup "$ubuild" "$HUGEPFN_ROOT" --cross-file "$HUGEPFN_ROOT/tests/vm/cross/$arch.ini" \
			-Dguest_only=true >/dev/null || die "meson setup of $ubuild ($arch cross build) failed"
fi
ninja -C "$ubuild" >/dev/null || die "userspace build failed; run 'ninja -C $ubuild' to see why"

# The test module, built out of tree against this kernel.
rm -rf "$out/module"
mkdir -p "$out/module"
cp "$HUGEPFN_ROOT"/tests/vm/module/* "$out/module/"
make -s -C "$module_kdir" "${kmake_arch[@]}" M="$out/module" W=1 modules > "$out/module/build.log" 2>&1 ||
	{ cat "$out/module/build.log" >&2; die "test module build against $release failed"; }
if grep -q 'warning:' "$out/module/build.log"; then
	cat "$out/module/build.log" >&2
	die "test module build against $release has warnings"
fi

# The hugepfn driver, built with W=1 and sparse (C=2); any warning fails.
rm -rf "$out/driver"
mkdir -p "$out/driver"
cp -r "$HUGEPFN_ROOT"/kernel/driver/* "$out/driver/"
make -s -C "$module_kdir" "${kmake_arch[@]}" M="$out/driver" W=1 C=2 modules > "$out/driver/build.log" 2>&1 ||
	{ cat "$out/driver/build.log" >&2; die "hugepfn.ko build against $release failed"; }
# The UIO core is looked up at run time (uio=1 only): no load-time dependency.
deps=$(modinfo -F depends "$out/driver/hugepfn.ko")
[ -z "$deps" ] || die "hugepfn.ko depends on '$deps'; it must load without other modules"
if grep -qE 'warning:|error:' "$out/driver/build.log"; then
	cat "$out/driver/build.log" >&2
	die "hugepfn.ko build against $release has warnings"
fi
# 7.3's Makefile asks for a newer sparse than Debian 12's 0.6.4 (its
# scripts/checker-valid.sh) and builds without it: say so.
if grep -q 'specified, but .* is not available or not up to date' "$out/driver/build.log"; then
	say "note: hugepfn.ko was built against $release without sparse (too old for this kernel)"
fi

# The initramfs: busybox, /init, the guest tests and the modules.
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,hpfn/tests,hpfn/bin,hpfn/modules}
if [ "$arch" = x86_64 ]; then
	cp /bin/busybox "$stage/bin/busybox"
else
	cp "$(foreign_busybox "$arch")" "$stage/bin/busybox"
fi
cp "$HUGEPFN_ROOT/tests/vm/guest/init.sh" "$stage/init"
chmod 755 "$stage/init"
# copy_with_libs BINARY DEST: the binary and the shared libraries it needs,
# at their host paths, for the dynamically linked programs.
copy_with_libs() {
	local lib
	cp "$1" "$2"
	# static programs have no libraries ("not a dynamic executable")
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
for t in "$HUGEPFN_ROOT"/tests/vm/guest/t_*.c; do
	t=$(basename "$t" .c)
	# a cross build has the static programs only
	[ -f "$ubuild/tests/vm/guest/$t" ] || continue
	copy_with_libs "$ubuild/tests/vm/guest/$t" "$stage/hpfn/tests/"
done
copy_with_libs "$ubuild/tests/vm/guest/bar_word" "$stage/hpfn/bin/"
if [ "$arch" = x86_64 ]; then
	copy_with_libs "$HUGEPFN_BUILD/tools/hugepfn" "$stage/hpfn/bin/"
	copy_with_libs "$HUGEPFN_BUILD/examples/bar-access" "$stage/hpfn/bin/"
	# dpdk-fwd links its DPDK drivers (net_ring, ...) as DT_NEEDED, so ldd
	# finds them; DPDK's plugin directory is not needed.
	copy_with_libs "$HUGEPFN_BUILD/examples/dpdk-fwd" "$stage/hpfn/bin/"
	# the boot binding's udev rule and unit as Meson configured them
	# (t_persist runs the commands they name)
	mkdir -p "$stage/hpfn/etc"
	cp "$HUGEPFN_BUILD/tools/61-hugepfn-bind.rules" "$HUGEPFN_BUILD/tools/hugepfn-bind.service" "$stage/hpfn/etc/"
fi
[ -e "$stage/lib64" ] || ln -s lib "$stage/lib64" 2>/dev/null || true
install -m 644 "$HUGEPFN_ROOT/tests/vm/guest/lib.sh" "$stage/hpfn/lib.sh"
for s in "$HUGEPFN_ROOT"/tests/vm/guest/*.sh; do
	case "$(basename "$s")" in init.sh|lib.sh) continue ;; esac
	install -m 755 "$s" "$stage/hpfn/tests/$(basename "$s" .sh)"
done
# The series' kselftest, from the patched tree (the stock kernel has none),
# linked with the mm selftests' vm_util.c as their Makefile does. vm_util.c
# needs the source's <linux/fs.h> (6.12's is newer than Debian 12's): only
# the uAPI headers' linux/ directory is put first, so that asm/ stays the
# target's, from the compiler. A series whose patches do not add it (both
# series here do) builds none, and t_kselftest_remap skips
# (tests/vm/expected-skips.list).
ks=$(dirname "$module_kdir")/src/tools/testing/selftests/mm/remap_pfn_pmd.c
if [ "$kind" = patched ] && grep -qs '^+++ b/tools/testing/selftests/mm/remap_pfn_pmd\.c$' "$SERIES_DIR"/*.patch; then
	# Without it t_kselftest_remap would skip, which a series with it may not.
	[ -f "$ks" ] || die "the series' kselftest $ks is missing from the patched tree"
	ksinc=$out/kselftest-include
	rm -rf "$ksinc"
	mkdir -p "$ksinc"
	ln -s "$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --uapi)/include/linux" "$ksinc/linux"
	"$cc" -O2 -Wall -Werror -static -isystem "$ksinc" -I "$(dirname "$ks")/.." \
		-o "$stage/hpfn/bin/remap_pfn_pmd" "$ks" "$(dirname "$ks")/vm_util.c" ||
		die "building the series' kselftest $ks failed"
fi
# The upstream mm selftests (t_mm_selftests; x86_64), built once per Linux
# version from its Debian source without the series, the same binaries for
# every kernel of that version.
if [ "$arch" = x86_64 ]; then
	"$HUGEPFN_ROOT/tests/vm/build-mm-selftests.sh" --linux "$linux" "$stage/hpfn/mm-selftests"
fi
cp "$out/module/hpfn_test.ko" "$out/module/hpfn_provoke.ko" "$out/driver/hugepfn.ko" "$stage/hpfn/modules/"
: > "$stage/hpfn/modules/load.list"
# Framework modules the stock kernel has as modules (built in on ours).
if [ "$kind" = stock ]; then
	for m in drivers/uio/uio.ko virt/lib/irqbypass.ko drivers/vfio/vfio.ko \
		drivers/vfio/vfio_iommu_type1.ko drivers/vfio/pci/vfio-pci-core.ko \
		drivers/vfio/pci/vfio-pci.ko; do
		xz -dc "$(dirname "$module_kdir")/modules/kernel/$m.xz" > "$stage/hpfn/modules/$(basename "$m")"
		basename "$m" >> "$stage/hpfn/modules/load.list"
	done
fi
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) > "$out/initramfs.cpio"

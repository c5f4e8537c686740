#!/usr/bin/env bash
# The hugepfn demo: boot the patched kernel in a VM with an emulated PCI
# device that has a 2 GiB 64-bit prefetchable BAR and a reserved carveout,
# load hugepfn.ko, and have the hugepfn tool list, describe and map the BAR
# and the carveout through the driver, then the BAR through vfio-pci and
# through sysfs, printing the address, size, page size of every mapped run
# and the time taken. Needs no spare device.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

kind=patched linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help)
			cat <<'USAGE'
Usage: examples/demo.sh [--stock] [--linux VERSION]

Builds what it needs (Debian packages, the patched 6.12 kernel: about 10
minutes the first time on 2 cores, cached afterwards), boots it under qemu
and maps the emulated device's 2 GiB BAR and the carveout with the hugepfn
tool, through the hugepfn driver, vfio-pci and sysfs.

  --stock          run the same demo on Debian's unmodified kernel
  --linux VERSION  6.12 (the default) or 7.3: the patched 7.3 kernel (the
                   upstream series, whose FEATURES are 6.12's: the same
                   leaves), or with --stock Debian's 7.3
USAGE
			exit 0 ;;
		--stock) kind=stock ;;
		--linux)
			[ $# -ge 2 ] || { echo "error: --linux needs a version (try --help)" >&2; exit 2; }
			linux=$2
			shift ;;
		*) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
case " ${HUGEPFN_LINUX_VERSIONS[*]} " in
	*" $linux "*) linux_select "$linux" ;;
	*) echo "error: --linux must be one of: ${HUGEPFN_LINUX_VERSIONS[*]}" >&2; exit 2 ;;
esac
name=demo-$kind$LINUX_CACHE_TAG

out=$("$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel "$kind" --linux "$linux" --name "$name" --tests demo) && rc=0 || rc=$?
echo
sed -n 's/^# \?//p' <<<"$out" | grep -vE '^(kernel .*CPUs, features|running demo|demo took|hpfn-done|\[demo)' || true
echo
if [ $rc -ne 0 ]; then
	echo "$out" | grep -E '^not ok' >&2
	echo "demo failed; the VM logs are in $HUGEPFN_BUILD/vm-logs/$name/" >&2
	exit 1
fi
echo "demo finished: the lines above come from inside the VM ($kind${LINUX_CACHE_TAG:+ $linux} kernel)."

#!/usr/bin/env bash
# The hugepfn demo: boot the patched kernel in a VM with an emulated PCI
# device that has a 2 GiB 64-bit prefetchable BAR and a reserved carveout,
# load hugepfn.ko, and have the hugepfn tool list, describe and map the BAR
# and the carveout through the driver, then the BAR through vfio-pci and
# through sysfs, printing the address, size, page size of every mapped run
# and the time taken. Needs no spare device.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

case "${1:-}" in
	-h|--help)
		cat <<'USAGE'
Usage: examples/demo.sh [--stock]

Builds what it needs (Debian packages, the patched 6.12 kernel: about 10
minutes the first time on 2 cores, cached afterwards), boots it under qemu
and maps the emulated device's 2 GiB BAR and the carveout with the hugepfn
tool, through the hugepfn driver, vfio-pci and sysfs.

  --stock   run the same demo on Debian's unmodified 6.12 kernel
USAGE
		exit 0 ;;
	--stock) kind=stock ;;
	"") kind=patched ;;
	*) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

out=$("$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel "$kind" --name "demo-$kind" --tests demo) && rc=0 || rc=$?
echo
sed -n 's/^# \?//p' <<<"$out" | grep -vE '^(kernel .*CPUs, features|running demo|demo took|hpfn-done|\[demo)' || true
echo
if [ $rc -ne 0 ]; then
	echo "$out" | grep -E '^not ok' >&2
	echo "demo failed; the VM logs are in $HUGEPFN_BUILD/vm-logs/demo-$kind/" >&2
	exit 1
fi
echo "demo finished: the lines above come from inside the VM ($kind kernel)."

#!/bin/sh
# The demo's guest side: the hugepfn tool maps the emulated device's 2 GiB
# BAR and the carveout through the hugepfn driver, then the BAR through
# vfio-pci and through sysfs, and shows what the kernel gave each time.
# Everything is printed as TAP diagnostics for the host to show.
. /hpfn/lib.sh
big=$(big_ivshmem)
if [ -z "$big" ]; then
	echo "not ok - no ivshmem device with a 1 GiB BAR2"
	exit 1
fi
carve=$(sed -n 's/.*memmap=\([0-9]*\)M\$\(0x[0-9a-f]*\).*/\1M@\2/p' /proc/cmdline)
show() {
	echo "#"
	echo "# \$ $*"
	"$@" 2>&1 | sed 's/^/#   /'
}
step() {
	results=$((results + 1))
	if "$@" >/dev/null 2>&1; then echo "ok - $*"; else echo "not ok - $*"; rc=1; fi
}
echo "# kernel $(uname -r); the emulated device is $big, the carveout $carve"
step insmod /hpfn/modules/hugepfn.ko carveouts=demo:$carve
show hugepfn bind "$big"
show hugepfn list
show hugepfn info "$big"
show hugepfn info carveout:demo
show hugepfn map "$big" 2
show hugepfn map carveout:demo 0
show hugepfn map "$big" 2 --length 64M --4k
show hugepfn map "$big" 2 --length 64M --huge-required
show hugepfn unbind "$big"
if [ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ]; then
	echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
fi
show hugepfn bind "$big" vfio-pci
show hugepfn map "$big" 2 --length 256M
show hugepfn unbind "$big"
show hugepfn map "$big" 2 --length 256M
step rmmod hugepfn
tap_end

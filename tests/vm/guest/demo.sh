#!/bin/sh
# The demo's guest side: map the big ivshmem BAR through sysfs and show what
# the kernel gave. Output goes to the host as TAP diagnostics.
bdf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] || continue
	# the big BAR2 is 1 GiB
	set -- $(sed -n 3p "$d/resource")
	[ $(($2 - $1 + 1)) -ge 1073741824 ] && bdf=${d##*/} && break
done
if [ -z "$bdf" ]; then
	echo "not ok - no ivshmem device with a 1 GiB BAR2 found"
	exit 1
fi
echo 1 > "/sys/bus/pci/devices/$bdf/enable"
echo "# kernel $(uname -r); PCI device $bdf (ivshmem), BAR2:"
sysfs-bar-map "/sys/bus/pci/devices/$bdf/resource2" > /tmp/demo.out 2>&1
rc=$?
sed 's/^/#   /' /tmp/demo.out
if [ $rc -eq 0 ]; then
	echo "ok - mapped $bdf BAR2 through sysfs resource2"
else
	echo "not ok - sysfs-bar-map failed with status $rc"
fi
exit $rc

#!/bin/sh
# Devices bound at every boot (hugepfn bind --persist), made the way a real
# machine's boot makes them. A binding is recorded; then a "reboot" of the
# device: unbound, hugepfn.ko unloaded, the device removed and found again
# by a PCI rescan (a new device: no driver_override, no driver, as at
# boot). Then the command hugepfn-bind.service runs (its ExecStart) and the
# one the udev rule 61-hugepfn-bind.rules runs (its RUN, for the device's
# add event), both read from the files Meson configured, must bind it
# again, loading hugepfn.ko through modprobe; its node appears and reads
# the BAR. The same for a vfio-pci record, and unbind --persist must leave
# nothing that binds it.
. /hpfn/lib.sh
big=$(big_ivshmem)
[ -n "$big" ] || { echo "not ok - no ivshmem device with a 1 GiB BAR2"; exit 1; }
unit=/hpfn/etc/hugepfn-bind.service
rule=/hpfn/etc/61-hugepfn-bind.rules
dev=/sys/bus/pci/devices/$big
node=/dev/hugepfn/pci-$big
rel=$(uname -r)

# The installed layout the unit and the rule expect: the tool where they
# name it, hugepfn.ko where modprobe finds it (the test image has it in
# /hpfn/modules only), /sbin/modprobe (the kernel's default; busybox
# installs it in /bin), /run (the tool's lock). What is made here, and
# what the tool makes (the records' and the lock's directories), is
# removed at the end.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
records=$(sed -n 's/^ConditionDirectoryNotEmpty=//p' "$unit")
tool=${exec_start%% *}
made=
# make_dir DIR: mkdir -p DIR, remembering the topmost directory it made
make_dir() {
	local d=$1 top=
	while [ ! -e "$d" ]; do top=$d; d=$(dirname "$d"); done
	[ -z "$top" ] || made="$made $top"
	mkdir -p "$1"
}
check "the unit's ExecStart applies every record ($exec_start)" \
	"[ \"\${exec_start#* }\" = 'bind --apply-persistent' ] && [ -n \"\$records\" ]"
[ -e "$tool" ] || { make_dir "$(dirname "$tool")" && ln -s /hpfn/bin/hugepfn "$tool" && made="$made $tool"; }
make_dir /run
[ -e /run/hugepfn ] || made="$made /run/hugepfn"
make_dir "$(dirname "$records")"
[ -e "$records" ] || made="$made $records"
[ -e /sbin/modprobe ] || { ln -s /bin/busybox /sbin/modprobe && made="$made /sbin/modprobe"; }
make_dir /lib/modules/$rel/extra
cp /hpfn/modules/hugepfn.ko /lib/modules/$rel/extra/
check "depmod: hugepfn.ko is installed for Linux $rel" \
	"depmod && grep -q 'extra/hugepfn.ko' /lib/modules/$rel/modules.dep"

# bound_to DRIVER: the device is bound to DRIVER ('' for none)
bound_to() {
	[ "$(basename "$(readlink "$dev/driver" 2>/dev/null)")" = "$1" ]
}
# record_is DRIVER: the device's record holds DRIVER, root's, mode 0644
record_is() {
	[ "$(cat "$records/pci-$big")" = "$1" ] &&
		[ "$(stat -c '%u %a' "$records/pci-$big")" = "0 644" ]
}
# bar2_start: where BAR2 is
bar2_start() {
	sed -n 3p "$dev/resource" | cut -d' ' -f1
}
# reboot_device: what a boot starts from: the device gone and found again
# by a rescan, with no driver and no override, hugepfn.ko not loaded. The
# record stays.
reboot_device() {
	local start
	start=$(bar2_start)
	bound_to "" || hugepfn unbind "$big" >/dev/null || return 1
	[ ! -e /sys/module/hugepfn ] || rmmod hugepfn || return 1
	echo 1 > "$dev/remove" && [ ! -e "$dev" ] && echo 1 > /sys/bus/pci/rescan && [ -e "$dev" ] &&
		bound_to "" && [ "$(cat "$dev/driver_override")" = "(null)" ] &&
		[ "$(bar2_start)" = "$start" ]
}
# node_reads: the device's node is there and reads BAR2 (the ivshmem BAR2
# is RAM to the guest: a word written through one mapping is read back
# through the node by another process)
node_reads() {
	[ -c "$node" ] && [ "$(stat -c %a "$node")" = 600 ] &&
		hugepfn poke "$big" 2 0x1000 "$1" >/dev/null &&
		[ "$(hugepfn peek "$big" 2 0x1000)" = "$1" ]
}

# A bind to a driver that is not loaded leaves the device waiting for it
# (its override set: hugepfn_pci_bind()); unbind takes that back.
check "bind --persist with hugepfn.ko not loaded fails, records nothing, leaves the override for the driver" \
	"! hugepfn bind --persist $big 2>/tmp/persist.err && grep -q 'driver hugepfn is not loaded' /tmp/persist.err &&
	 [ ! -e $records/pci-$big ] && [ \"\$(cat $dev/driver_override)\" = hugepfn ]"
sed 's/^/# /' /tmp/persist.err
check "unbind clears the override; modprobe hugepfn then binds nothing" \
	"hugepfn unbind $big >/dev/null && [ \"\$(cat $dev/driver_override)\" = '(null)' ] && modprobe hugepfn &&
	 bound_to ''"
check "bind --persist $big: bound to hugepfn" "hugepfn bind --persist $big >/dev/null && bound_to hugepfn"
check "the record: $records/pci-$big holds hugepfn, root's, mode 0644" "record_is hugepfn"
check "--list-persistent: the tool and the unit name one directory, the record bound" \
	"hugepfn --json bind --list-persistent > /tmp/persist.json &&
	 grep -q '\"directory\":\"$records\"' /tmp/persist.json && grep -q '\"device\":\"$big\"' /tmp/persist.json"
sed 's/^/# /' /tmp/persist.json

check "reboot the device: removed, rescanned, unbound, no override, hugepfn.ko unloaded" reboot_device
check "the unit's ExecStart binds it again, loading hugepfn.ko through modprobe" \
	"$exec_start > /tmp/apply.out && bound_to hugepfn && [ -e /sys/module/hugepfn ]"
sed 's/^/# /' /tmp/apply.out
check "node $node appears (mode 0600) and reads BAR2" "node_reads 0x600df00d"
check "doctor: the record is made" \
	"hugepfn --json doctor > /tmp/doctor.json; grep -q '\"check\":\"binding\",\"status\":\"ok\",\"found\":\"$big: recorded for hugepfn, and bound to it\"' /tmp/doctor.json"
inode=$(stat -c %i "$node")
check "ExecStart again: exit 0, already bound, nothing changed (the same node)" \
	"hugepfn --json bind --apply-persistent > /tmp/apply.json && grep -q '\"result\":\"ok\"' /tmp/apply.json &&
	 bound_to hugepfn && [ \"\$(stat -c %i $node)\" = $inode ]"

# The udev rule: its TEST matches the recorded device only, and its RUN
# (with udev's \$kernel, the device's name) binds the device.
rule_test=$(sed -n 's/.*TEST=="\([^"]*\)".*/\1/p' "$rule")
rule_run=$(sed -n 's/.*RUN+="\([^"]*\)".*/\1/p' "$rule")
# rule_matches: the PCI devices the rule's TEST matches, with udev's
# $kernel the device's name
rule_matches() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ ! -e "$(echo "$rule_test" | sed "s/\$kernel/${d##*/}/")" ] || printf ' %s' "${d##*/}"
	done
}
other=$(ls /sys/bus/pci/devices | grep -v "^$big\$" | head -n 1)
check "the rule's TEST matches $big only, and $other too once it has a record" \
	"[ \"\$(rule_matches)\" = ' $big' ] && echo hugepfn > $records/pci-$other &&
	 rule_matches | grep -q ' $other' ; ok=\$?; rm -f $records/pci-$other; [ \$ok = 0 ]"
# The device held by another driver when its add event comes (vfio-pci
# here, in no-IOMMU mode: this VM has no IOMMU): the RUN must set the
# override, unbind it from that driver and bind it (lib/bind.c's order).
[ -e "$dev/iommu_group" ] || echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
check "reboot the device again, then bind it to vfio-pci (not recorded)" \
	"reboot_device && hugepfn bind $big vfio-pci >/dev/null && bound_to vfio-pci"
check "the rule's RUN for the add event of $big takes it from vfio-pci to hugepfn, loading hugepfn.ko" \
	"\$(echo \"\$rule_run\" | sed \"s/\\\$kernel/$big/\") > /tmp/run.out && grep -q 'was bound to vfio-pci' /tmp/run.out &&
	 bound_to hugepfn && node_reads 0x5eed0001"
sed 's/^/# /' /tmp/run.out

# A vfio-pci record
check "bind --persist $big vfio-pci: rebound, the record now holds vfio-pci" \
	"hugepfn bind --persist $big vfio-pci >/dev/null && bound_to vfio-pci && record_is vfio-pci"
check "reboot the device (vfio-pci)" reboot_device
group=
check "the unit's ExecStart binds it to vfio-pci, its group node appears" \
	"$exec_start >/dev/null && bound_to vfio-pci &&
	 group=\$(basename \"\$(readlink $dev/iommu_group)\") && { [ -c /dev/vfio/\$group ] || [ -c /dev/vfio/noiommu-\$group ]; }"

# unbind --persist: unbound and forgotten; a boot then binds nothing
check "unbind --persist: unbound, the record gone" \
	"hugepfn unbind --persist $big >/dev/null && bound_to '' && [ ! -e $records/pci-$big ]"
check "reboot the device: ExecStart binds nothing now" \
	"reboot_device && $exec_start > /tmp/apply.out && grep -q 'No binding is recorded' /tmp/apply.out && bound_to '' &&
	 [ ! -e /sys/module/hugepfn ]"
check "unbind --persist of a device with no record fails, leaves it as it is" \
	"! hugepfn unbind --persist $big 2>/dev/null && bound_to ''"

# --root names where the records are, not whose modules load: the
# proc/sys/kernel/modprobe of an image under it is not run (it would name
# a program to run as root here); this kernel's modprobe loads the driver.
img=/tmp/persist-image
mkdir -p $img/proc/sys/kernel "$img$(dirname "$records")/bind.d"
printf '#!/bin/sh\ntouch /tmp/image-modprobe-ran\nexit 1\n' > $img/modprobe
chmod 755 $img/modprobe
echo $img/modprobe > $img/proc/sys/kernel/modprobe
echo hugepfn > "$img$records/pci-$big"
check "--root IMAGE: its record applied with this kernel's modprobe, not the program IMAGE/proc/sys/kernel/modprobe names" \
	"hugepfn --root $img bind --apply-persistent >/dev/null && bound_to hugepfn && [ ! -e /tmp/image-modprobe-ran ]"
hugepfn unbind "$big" >/dev/null
rmmod hugepfn
rm -rf $img /tmp/image-modprobe-ran

# leave the image as it was
rm -f /lib/modules/$rel/extra/hugepfn.ko
depmod
for f in $made; do rm -rf "$f"; done
tap_end

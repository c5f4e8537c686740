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
# installs it in /bin), /run (the tool's lock). What is made here is removed at the end.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
records=$(sed -n 's/^ConditionDirectoryNotEmpty=//p' "$unit")
tool=${exec_start%% *}
made=
check "the unit's ExecStart applies every record ($exec_start)" \
	"[ \"\${exec_start#* }\" = 'bind --apply-persistent' ] && [ -n \"\$records\" ]"
[ -e "$tool" ] || { mkdir -p "$(dirname "$tool")" && ln -s /hpfn/bin/hugepfn "$tool" && made="$made $tool"; }
[ -d /run ] || { mkdir /run && made="$made /run"; }
[ -e /sbin/modprobe ] || { ln -s /bin/busybox /sbin/modprobe && made="$made /sbin/modprobe"; }
[ -e /lib/modules/$rel ] || made="$made /lib/modules/$rel"
mkdir -p /lib/modules/$rel/extra && cp /hpfn/modules/hugepfn.ko /lib/modules/$rel/extra/
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

check "bind --persist with hugepfn.ko not loaded fails and records nothing" \
	"! hugepfn bind --persist $big 2>/tmp/persist.err && grep -q 'driver hugepfn is not loaded' /tmp/persist.err &&
	 [ ! -e $records/pci-$big ]"
sed 's/^/# /' /tmp/persist.err
check "modprobe hugepfn, then bind --persist $big" \
	"modprobe hugepfn && hugepfn bind --persist $big >/dev/null && bound_to hugepfn"
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
check "ExecStart again: exit 0, already bound, nothing changed" \
	"hugepfn --json bind --apply-persistent > /tmp/apply.json && grep -q '\"result\":\"ok\"' /tmp/apply.json && bound_to hugepfn"

# The udev rule: its TEST matches the recorded device only, and its RUN
# (with udev's \$kernel, the device's name) binds the device.
rule_test=$(sed -n 's/.*TEST=="\([^"]*\)".*/\1/p' "$rule")
rule_run=$(sed -n 's/.*RUN+="\([^"]*\)".*/\1/p' "$rule")
check "the rule's TEST names the record of $big and of no other device" \
	"[ -e \"\$(echo \"\$rule_test\" | sed \"s/\\\$kernel/$big/\")\" ] &&
	 for d in /sys/bus/pci/devices/*; do [ \${d##*/} = $big ] || [ ! -e \"\$(echo \"\$rule_test\" | sed \"s/\\\$kernel/\${d##*/}/\")\" ] || exit 1; done"
check "reboot the device again" reboot_device
check "the rule's RUN for the add event of $big binds it, loading hugepfn.ko" \
	"\$(echo \"\$rule_run\" | sed \"s/\\\$kernel/$big/\") >/dev/null && bound_to hugepfn && node_reads 0x5eed0001"

# A vfio-pci record: no IOMMU in this VM, no-IOMMU mode then
[ -e "$dev/iommu_group" ] || echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
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

# leave the image as it was
rm -f /lib/modules/$rel/extra/hugepfn.ko
depmod
for f in $made; do rm -rf "$f"; done
tap_end

#!/bin/sh
# The DPDK example in the VM: dpdk-fwd forwards packets between two net_ring
# ports with its mbuf data buffers in the big ivshmem BAR (through the
# hugepfn driver), mapped huge and with --4k. A bounded run must verify
# every frame (data inside the device area, payload intact, none lost), and
# a frame it names must be found in the BAR afterwards by another process.
. /hpfn/lib.sh
big=$(big_ivshmem)
[ -n "$big" ] || { echo "not ok - no ivshmem device with a 1 GiB BAR2"; exit 1; }
# json_num FILE KEY: the first number after "KEY":
json_num() {
	grep -o "\"$2\":[0-9]*" "$1" | head -n 1 | cut -d: -f2
}
# no hugetlbfs, no PCI probing, no multi-process files, no telemetry socket
# (the test kernel has no AF_UNIX); the EAL still wants its runtime directory
eal="--no-huge --no-pci --no-shconf --no-telemetry -l 0 --vdev=net_ring0 --vdev=net_ring1 --log-level=lib.eal:error"
mkdir -p /var/run
# the driver's BAR mappings are huge on every kernel (without the series'
# remap-pmd: from its fault handler)
huge=2097152
offset=$((512 << 20))

check "dpdk-fwd is in the image" "[ -x /hpfn/bin/dpdk-fwd ]"
check "load hugepfn.ko and bind $big" \
	"insmod /hpfn/modules/hugepfn.ko && hugepfn bind $big >/dev/null"

for mode in huge 4k; do
	flag=; want=$huge
	[ $mode = 4k ] && { flag=--4k; want=4096; }
	out=/tmp/dpdk-$mode.json
	check "dpdk-fwd ($mode): 200000 packets through BAR2 buffers, bounded run exits 0" \
		"dpdk-fwd $eal -- --device $big --region 2 --offset $offset --length 16M $flag --packets 200000 --json > $out 2>/tmp/dpdk-$mode.err"
	sed 's/^/# /' $out
	[ -s /tmp/dpdk-$mode.err ] && sed 's/^/# stderr: /' /tmp/dpdk-$mode.err
	check "dpdk-fwd ($mode): every frame verified (inside the device area, intact, none lost)" \
		"grep -q '\"verification\":{\"passed\":true' $out && [ \"\$(json_num $out outside_area)\" = 0 ]"
	check "dpdk-fwd ($mode): forwarded at least 200000 packets" \
		"[ \"\$(json_num $out forwarded)\" -ge 200000 ] 2>/dev/null"
	check "dpdk-fwd ($mode): registered the memory as $want-byte pages with physical IOVAs" \
		"[ \"\$(json_num $out page_size)\" = $want ] && grep -q '\"page_size_known\":true' $out && ! grep -q '\"phys\":null' $out"
	# the named frame, read back through the driver by another process:
	# "HPFN" magic after the 14-byte Ethernet header, then the sequence number
	area=$(json_num $out area_offset); seq=$(json_num $out seq)
	at=$(( offset + ${area:-0} )); seq=${seq:-0}
	check "dpdk-fwd ($mode): frame $seq is in the BAR at +$at (magic and sequence number)" \
		"[ -n \"$area\" ] && [ \"\$(hugepfn peek $big 2 $((at + 14)) --width 16)\" = 0x5048 ] &&
		 [ \"\$(hugepfn peek $big 2 $((at + 16)) --width 16)\" = 0x4e46 ] &&
		 [ \$(( \$(hugepfn peek $big 2 $((at + 20)) --width 16) )) = \$(( ((seq & 0xff) << 8) | ((seq >> 8) & 0xff) )) ]"
done
check "dpdk-fwd refuses a length that is not a page multiple (exit 2)" \
	"dpdk-fwd $eal -- --device $big --region 2 --length 12345 2>/dev/null; [ \$? -eq 2 ]"
hugepfn unbind "$big" >/dev/null
rmmod hugepfn
tap_end

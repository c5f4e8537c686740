#!/bin/sh
# A small benchmark run through the hugepfn driver: it must complete and
# report sane, non-zero figures. (Under TCG the numbers themselves say
# nothing about hardware; the full runs are documented commands.)
. /hpfn/lib.sh
big=$(big_ivshmem)
[ -n "$big" ] || { echo "not ok - no ivshmem device with a 1 GiB BAR2"; exit 1; }
rc=0
check() {
	if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; rc=1; fi
}
check "load hugepfn.ko and bind $big" \
	"insmod /hpfn/modules/hugepfn.ko && hugepfn bind $big >/dev/null"
check "bench through the driver completes (16M working set, 3 runs)" \
	"hugepfn --json bench $big 2 --sizes 8M,16M --reps 3 --copy-size 8M > /tmp/bench.json"
sed 's/^/# /' /tmp/bench.json
# every figure present and positive (page-table pages may be equal, not zero)
for key in ns_4k ns_huge from_ms_4k from_ms_huge to_ms_4k to_ms_huge; do
	check "bench reports a positive $key" \
		"grep -o '\"$key\":[0-9.]*' /tmp/bench.json | cut -d: -f2 | awk '\$1 <= 0 { bad = 1 } END { exit bad || NR == 0 }'"
done
for key in mmap_ms touch_ms fork_ms munmap_ms mprotect_4k_us page_table_pages; do
	check "bench reports positive $key for both sides" \
		"grep -o '\"$key\":\[[^]]*\]' /tmp/bench.json | grep -Eq '\[[0-9.]*[1-9][0-9.]*,[0-9.]*[1-9][0-9.]*\]'"
done
check "the human-readable table has the three sections" \
	"hugepfn bench $big 2 --sizes 8M --reps 1 --copy-size 4M | grep -q 'ns/load' && hugepfn bench $big 2 --sizes 8M --reps 1 --copy-size 4M | grep -q 'mapping cost'"
check "bar-access streams 32 MiB in write-combining and reads it back intact" \
	"bar-access $big 2 --bytes 32M --json > /tmp/bar.json && grep -q '\"verified\":true' /tmp/bar.json && grep -q '\"write_combining\":true' /tmp/bar.json"
sed 's/^/# /' /tmp/bar.json
check "bar-access refuses a size past the region (exit 1) and bad usage (exit 2)" \
	"bar-access $big 2 --bytes 2048M 2>/dev/null; [ \$? -eq 1 ] && bar-access $big 2>/dev/null; [ \$? -eq 2 ]"
hugepfn unbind "$big" >/dev/null
rmmod hugepfn
exit $rc

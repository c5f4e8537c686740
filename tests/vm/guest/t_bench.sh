#!/bin/sh
# A small benchmark run through the hugepfn driver: it must complete and
# report sane, non-zero figures. (Under TCG the numbers themselves say
# nothing about hardware; the full runs are documented commands.)
. /hpfn/lib.sh
big=$(big_ivshmem)
[ -n "$big" ] || { echo "not ok - no ivshmem device with a 1 GiB BAR2"; exit 1; }
check "load hugepfn.ko and bind $big" \
	"insmod /hpfn/modules/hugepfn.ko && hugepfn bind $big >/dev/null"
# bar-access first: the bench's 4 KiB mprotects split leaves at the start of
# the BAR, and after such partial changes x86 PAT keeps the range UC- (README,
# 'Known 6.12 behaviour'), which a later write-combining map would get.
# ivshmem's register BAR0 is 256 bytes (not mappable): the "register BAR" is
# the last page of BAR2, uncached, away from the 32 MiB streamed
set -- $(sed -n 3p /sys/bus/pci/devices/$big/resource)
bell=$(( $2 - $1 + 1 - 4096 ))
check "bar-access: WC and UC, huge and 4K, 32 MiB each way, every byte verified; a doorbell rung 10000 times" \
	"bar-access $big 2 --bytes 32M --rounds 2 --doorbell $big,2,$bell --json > /tmp/bar.json && grep -q '\"verified\":true}\$' /tmp/bar.json && [ \$(grep -o '\"verified\":true' /tmp/bar.json | wc -l) -eq 5 ]"
sed 's/^/# /' /tmp/bar.json
# The driver's BAR mappings are huge on every kernel (without the series'
# leaf install, remap-pmd: from its fault handler); its write-combining
# aliases only where remap_pfn_range() installs huge leaves (the series),
# and so are the fault handler's 2 MiB leaves the kind that carries no page
# table.
fault=; grep -q 'hpfn.features=[^ ]*remap-pmd' /proc/cmdline || fault=1
if [ -z "$fault" ]; then wc_huge=2097152; else wc_huge=4096; fi
uc_huge=2097152
check "bar-access: the kernel applied WC ($wc_huge) and UC- ($uc_huge) huge leaves and 4K as asked" \
	"grep -q '\"mode\":\"WC huge\",\"page_size\":$wc_huge,\"cache\":\"WC\"' /tmp/bar.json &&
	 grep -q '\"mode\":\"WC 4K\",\"page_size\":4096,\"cache\":\"WC\"' /tmp/bar.json &&
	 grep -q '\"mode\":\"UC huge\",\"page_size\":$uc_huge,\"cache\":\"UC-\"' /tmp/bar.json &&
	 grep -q '\"mode\":\"UC 4K\",\"page_size\":4096,\"cache\":\"UC-\"' /tmp/bar.json"
check "bar-access: the doorbell saw every ring and the device side every descriptor" \
	"grep -q '\"rings\":10000,\"rings_per_s\":[0-9]*,\"mismatches\":0' /tmp/bar.json"
check "bar-access refuses a size past the region (exit 1) and bad usage (exit 2)" \
	"bar-access $big 2 --bytes 4096M 2>/dev/null; [ \$? -eq 1 ] && bar-access $big 2>/dev/null; [ \$? -eq 2 ] && bar-access $big 2 --doorbell nocomma 2>/dev/null; [ \$? -eq 2 ]"
check "bench through the driver completes (16M working set, 3 runs)" \
	"hugepfn --json bench $big 2 --sizes 8M,16M --reps 3 --copy-size 8M > /tmp/bench.json"
sed 's/^/# /' /tmp/bench.json
# every figure of the 4K and 2M sides present and positive (page-table pages
# may be equal, not zero); no 1G side in 16 MiB, and the reason given
for key in ns_4k ns_2m; do
	check "bench reports a positive $key" \
		"grep -o '\"$key\":[0-9.]*' /tmp/bench.json | cut -d: -f2 | awk '\$1 <= 0 { bad = 1 } END { exit bad || NR == 0 }'"
done
for key in from_ms to_ms mmap_ms touch_ms fork_ms munmap_ms mprotect_4k_us; do
	check "bench reports positive $key for the 4K and 2M sides, null for 1G" \
		"grep -o '\"$key\":\[[^]]*\]' /tmp/bench.json | grep -Eq '\[[0-9.]*[1-9][0-9.]*,[0-9.]*[1-9][0-9.]*,null\]'"
done
if [ -n "$fault" ]; then
	# fault-time 2 MiB leaves carry no PTE table; their PMD table may be
	# one the process had already
	for key in page_table_pages page_table_kib_per_gib; do
		check "bench: $key positive for the 4K side, none or few for the fault-time 2M side, null for 1G" \
			"grep -o '\"$key\":\[[^]]*\]' /tmp/bench.json | grep -Eq '\[[0-9]*[1-9][0-9]*,[0-9]+,null\]'"
	done
else
	for key in page_table_pages page_table_kib_per_gib; do
		check "bench: $key positive for the 4K and 2M sides, null for 1G" \
			"grep -o '\"$key\":\[[^]]*\]' /tmp/bench.json | grep -Eq '\[[0-9]*[1-9][0-9]*,[0-9]*[1-9][0-9]*,null\]'"
	done
fi
check "bench says why 16 MiB has no 1G column" \
	"grep -q '\"name\":\"1G\",\"available\":false,\"why_not\":\"the range is under 1 GiB' /tmp/bench.json"
# a whole GiB: the 1G column, where the kernel maps PUD leaves
check "bench over 1 GiB completes (1 run)" \
	"hugepfn --json bench $big 2 --sizes 1G --reps 1 --copy-size 8M > /tmp/bench1g.json"
sed 's/^/# /' /tmp/bench1g.json
# 1 GiB leaves: the series' remap, or the driver's fault handler where the
# CPU has 1 GiB pages
if grep -q 'hpfn.features=[^ ]*remap-pud' /proc/cmdline || { [ -n "$fault" ] && grep -qw pdpe1gb /proc/cpuinfo; }; then
	check "bench 1 GiB: the 1G side got 1 GiB leaves, and a positive latency" \
		"grep -q '\"name\":\"1G\",\"available\":true,\"why_not\":\"\",\"alignment\":1073741824,\"largest_page\":1073741824' /tmp/bench1g.json &&
		 grep -o '\"ns_1g\":[0-9.]*' /tmp/bench1g.json | cut -d: -f2 | awk '\$1 <= 0 { bad = 1 } END { exit bad || NR == 0 }'"
	check "bench 1 GiB: the 2M side stayed at 2 MiB leaves" \
		"grep -q '\"name\":\"2M\",\"available\":true,\"why_not\":\"\",\"alignment\":2097152,\"largest_page\":2097152' /tmp/bench1g.json"
	# the kernel's count: a 1 GiB leaf carries no tables (at most 2 pages,
	# an upper table the mapping may need), remap's 2 MiB leaves one PTE
	# table each, fault-time 2 MiB leaves none (one PMD table per GiB)
	if [ -n "$fault" ]; then
		check "bench 1 GiB: page tables per GiB, by VmPTE: at least 2048 KiB for 4K, at most 8 KiB for 2M and 1G" \
			"grep -o '\"page_table_kib_per_gib\":\[[0-9]*,[0-9]*,[0-9]*\]' /tmp/bench1g.json | tr -c '0-9\n' ' ' |
			 awk '{ exit !(\$1 >= 2048 && \$2 <= 8 && \$3 <= 8) }'"
	else
		check "bench 1 GiB: page tables per GiB, by VmPTE: at most 8 KiB for the 1G side, at least 2048 KiB for 4K and 2M" \
			"grep -o '\"page_table_kib_per_gib\":\[[0-9]*,[0-9]*,[0-9]*\]' /tmp/bench1g.json | tr -c '0-9\n' ' ' |
			 awk '{ exit !(\$1 >= 2048 && \$2 >= 2048 && \$3 <= 8) }'"
	fi
else
	check "bench 1 GiB: no 1G column on a kernel without PUD remap, and it says so" \
		"grep -q '\"name\":\"1G\",\"available\":false,\"why_not\":\"the kernel mapped no 1 GiB leaf' /tmp/bench1g.json"
fi
check "the human-readable table has the three sections and the three columns" \
	"hugepfn bench $big 2 --sizes 8M --reps 1 --copy-size 4M > /tmp/bench.txt && grep -q '1G ns/load' /tmp/bench.txt && grep -q 'mapping cost' /tmp/bench.txt && grep -q '^# no 1G column' /tmp/bench.txt && grep -q '^page tables KiB/GiB  *[0-9][0-9]*  *[0-9][0-9]*  *-\$' /tmp/bench.txt && grep -q '^(through the hugepfn backend)' /tmp/bench.txt"
hugepfn unbind "$big" >/dev/null
rmmod hugepfn
tap_end

# Shell helpers for the guest's shell tests (installed as /hpfn/lib.sh).

# big_ivshmem: print the PCI address of the ivshmem device whose BAR2 is
# at least 1 GiB (the test bed's big device), or nothing.
big_ivshmem() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] || continue
		set -- $(sed -n 3p "$d/resource")
		if [ $(($2 - $1 + 1)) -ge 1073741824 ]; then
			echo "${d##*/}"
			return
		fi
	done
}

# check DESCRIPTION COMMAND: run COMMAND (a shell string) and print one TAP
# line; a failure sets rc=1, which the test exits with.
rc=0
results=0
check() {
	results=$((results + 1))
	if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; rc=1; fi
}

# tap_end: the end of a shell test: the trailing plan counting every check
# printed (the host fails a test that stops before it), then exit with rc.
tap_end() {
	echo "1..$results"
	exit $rc
}

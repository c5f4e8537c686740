#!/bin/busybox sh
# /init of the test VM. Runs the guest test programs named by hpfn.tests= on
# the kernel command line and writes TAP to the second serial port (the
# kernel console stays on the first, so the two never interleave).
# Lines: "ok - PROG: DESC", "not ok - PROG: DESC", each program's plan
# "1..N", "# ...", and a final "# hpfn-done" that tells the host the guest
# finished (tests/vm/check-run.py reads them).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/hpfn/bin
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

param() {
	for kv in $(cat /proc/cmdline); do
		case "$kv" in "$1="*) echo "${kv#*=}"; return ;; esac
	done
}

# TAP goes to the second serial port, or where hpfn.tap= says (arm64's
# virt machine has one UART: there it is a virtio console).
tap=$(param hpfn.tap)
exec 3>"${tap:-/dev/ttyS1}"

finish() {
	echo "# hpfn-done" >&3
	sync
	reboot -f
}

echo "# kernel $(uname -r) ($(param hpfn.kernel)), $(nproc) CPUs, features: $(param hpfn.features)" >&3

# Modules that the kernel has as loadable modules (stock kernel), then ours.
for m in $(cat /hpfn/modules/load.list 2>/dev/null); do
	insmod "/hpfn/modules/$m" 2>/tmp/insmod.err ||
		echo "# insmod $m: $(cat /tmp/insmod.err)" >&3
done
if ! insmod /hpfn/modules/hpfn_test.ko 2>/tmp/insmod.err; then
	echo "not ok - init: insmod hpfn_test.ko: $(cat /tmp/insmod.err)" >&3
	finish
fi

# hpfn.provoke=CLASS,...: the harness self-test (tests/vm/selftest.sh) has
# hpfn_provoke.ko make the kernel report each class of problem in turn,
# between markers in the kernel log that tell the host which lines each
# one caused. The detectors' thresholds are lowered first so that a hang,
# a soft lockup and an RCU stall are reported within seconds.
provoke() {
	case "$1" in
		hung) echo 2 > /proc/sys/kernel/hung_task_timeout_secs ;;
		softlockup) echo 1 > /proc/sys/kernel/watchdog_thresh ;;
		rcu_stall) echo 3 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout ;;
	esac
	echo "hpfn-provoke: begin $1" > /dev/kmsg
	insmod /hpfn/modules/hpfn_provoke.ko what="$1" 2>/tmp/insmod.err ||
		echo "# insmod hpfn_provoke.ko what=$1: $(cat /tmp/insmod.err)" >&3
	rmmod hpfn_provoke
	echo "hpfn-provoke: end $1" > /dev/kmsg
	echo "# provoked $1" >&3
}
for p in $(param hpfn.provoke | tr , ' '); do
	provoke "$p"
done

limit=$(param hpfn.test_timeout)
[ -n "$limit" ] || limit=300
# Each program's output is framed by "# hpfn-begin T" and "# hpfn-end T
# STATUS", so the host can hold every program to its own plan (a program
# that prints nothing, or dies before its plan, fails there).
for t in $(param hpfn.tests | tr , ' '); do
	echo "# hpfn-begin $t" >&3
	if [ ! -x "/hpfn/tests/$t" ]; then
		echo "not ok - $t: no such guest test in the initramfs" >&3
		echo "# hpfn-end $t 127" >&3
		continue
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	# Stream the output, so a test that crashes the kernel still shows
	# how far it got; keep a copy to look for failures afterwards.
	set -o pipefail
	(cd /tmp && timeout "$limit" "/hpfn/tests/$t") 2>&1 | tee /tmp/out |
		while IFS= read -r line; do
			case "$line" in
				"ok - "*) echo "ok - $t: ${line#ok - }" ;;
				"not ok - "*) echo "not ok - $t: ${line#not ok - }" ;;
				*) echo "$line" ;;
			esac
		done >&3
	rc=$?
	set +o pipefail
	end=$(cut -d' ' -f1 /proc/uptime)
	if [ $rc -ne 0 ] && ! grep -q '^not ok' /tmp/out; then
		if [ $rc -eq 124 ] || [ $rc -eq 143 ]; then
			echo "not ok - $t: timed out after ${limit}s" >&3
		else
			echo "not ok - $t: exited with status $rc without reporting a failure" >&3
		fi
	fi
	echo "# $t took $(awk "BEGIN{print $end-$start}")s" >&3
	echo "# hpfn-end $t $rc" >&3
done
finish

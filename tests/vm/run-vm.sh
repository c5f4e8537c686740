#!/usr/bin/env bash
# Boot a test kernel in qemu (q35 for x86_64, virt for arm64; TCG) with the
# test devices, run guest tests, and report them as TAP on stdout. The run
# fails when a guest test fails, stops before its plan or skips a check
# that tests/vm/expected-skips.list does not allow, when the guest does not
# finish in time, or when the kernel log reports any problem class of
# tests/vm/check-run.py (WARNING, BUG, Oops, lockdep, RCU stall, UBSAN,
# KASAN, KFENCE, hung task, soft lockup, page-table check...).
set -euo pipefail
. "$(dirname "$0")/common.sh"

usage() {
	cat <<'USAGE'
Usage: tests/vm/run-vm.sh --kernel patched|stock|base [OPTION]...

  --kernel KIND    patched (this project's series), stock (Debian's cloud
                   kernel of that version) or base (the patched kernel's
                   source and config without the series, kernel/build.sh
                   --base; x86_64, booted like patched: the reference for
                   the upstream mm selftests)
  --linux VERSION  6.12 (default) or 7.3: the Linux version of the kernel,
                   its series kernel/patches/VERSION/ (and FEATURES there)
  --arch ARCH      x86_64 (default) or arm64 (qemu virt, -cpu max; patched
                   kernel only, static guest tests only)
  --tests LIST     comma-separated guest tests (default: tests/vm/tests.list)
  --iommu          put the devices behind qemu's emulated Intel IOMMU (the
                   stock kernel always is; the patched one otherwise uses
                   VFIO's no-IOMMU mode, and needs the IOMMU for the VFIO cdev)
  --append ARGS    extra kernel command-line arguments
  --name NAME      name of this run in the output and its log directory
                   (default KIND, then -7.3 on 7.3 and -arm64 on arm64)
  --timeout SEC    wall-clock limit for the whole boot (default 900)
  -h, --help

Environment: HUGEPFN_PATCHED_KDIR=DIR boots DIR (laid out like kernel/build.sh's
output: bzImage or Image, release, obj/ for modules, src/) as the patched kernel
instead of building one, for working on the series in another tree; with it,
HUGEPFN_PATCHED_FEATURES=LIST (comma-separated, may be empty) replaces the
features of kernel/patches/VERSION/FEATURES, for a kernel with part of the series.

Logs of every run are kept in build/vm-logs/NAME/ (console.log = kernel log,
tap.log = guest test output); the tail of a failing run's kernel log is
printed. Exit status: 0 all passed, 1 something failed, 2 bad usage.
USAGE
}

kind= tests= append= name= timeout_s=900 want_iommu= arch=x86_64 linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		--kernel) kind=${2:-}; shift 2 ;;
		--linux) linux=${2:-}; shift 2 ;;
		--arch) arch=${2:-}; shift 2 ;;
		--tests) tests=${2:-}; shift 2 ;;
		--append) append=${2:-}; shift 2 ;;
		--iommu) want_iommu=1; shift ;;
		--name) name=${2:-}; shift 2 ;;
		--timeout) timeout_s=${2:-}; shift 2 ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; echo "error: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case "$kind" in
	patched|stock|base) ;;
	*) usage >&2; echo "error: --kernel must be 'patched', 'stock' or 'base'" >&2; exit 2 ;;
esac
case " ${HUGEPFN_LINUX_VERSIONS[*]} " in
	*" $linux "*) linux_select "$linux" ;;
	*) usage >&2; echo "error: --linux must be one of: ${HUGEPFN_LINUX_VERSIONS[*]}" >&2; exit 2 ;;
esac
case "$timeout_s" in ''|*[!0-9]*) echo "error: --timeout takes seconds" >&2; exit 2 ;; esac
case "$arch" in
	x86_64) image_name=bzImage tests_list=tests.list ;;
	arm64) image_name=Image tests_list=tests-arm64.list ;;
	*) usage >&2; echo "error: --arch must be 'x86_64' or 'arm64'" >&2; exit 2 ;;
esac
if [ "$arch" != x86_64 ] && [ "$kind" != patched ]; then
	echo "error: the $kind kernel runs on x86_64 only in this test bed" >&2
	exit 2
fi
[ -n "$tests" ] || tests=$(grep -v '^#' "$HUGEPFN_ROOT/tests/vm/$tests_list" | paste -sd, -)
# This version's runs are named and built apart from the others': the
# default name and the guest's build directory get -7.3 (6.12's are as
# before the versions), then -ARCH off x86_64.
vtag=$LINUX_CACHE_TAG
[ -n "$name" ] || name=$kind$vtag
[ "$arch" = x86_64 ] || [ "$name" != "$kind$vtag" ] || name=$kind$vtag-$arch

# series_features: kernel/patches/VERSION/FEATURES for this architecture
# ("NAME" lines, or "NAME ARCH..." for features only some architectures have).
series_features() {
	local feature archs
	while read -r feature archs; do
		case "$feature" in ''|'#'*) continue ;; esac
		if [ -z "$archs" ] || [[ " $archs " == *" $arch "* ]]; then
			echo "$feature"
		fi
	done < "$SERIES_DIR/FEATURES" | paste -sd, -
}

dup=$(tr , '\n' <<<"$tests" | sort | uniq -d | paste -sd, -)
[ -z "$dup" ] || { echo "error: --tests names $dup more than once" >&2; exit 2; }

# This run's logs: none of an earlier run's may stay to be read as this one's,
# also when the builds below fail.
logdir=$HUGEPFN_BUILD/vm-logs/$name
rm -rf "$logdir"

need_all_packages

# --- the kernel -------------------------------------------------------------
guest_out=$kind$vtag
if [ "$kind" = patched ] && [ -n "${HUGEPFN_PATCHED_KDIR:-}" ]; then
	kdir=$HUGEPFN_PATCHED_KDIR
	[ -f "$kdir/$image_name" ] && [ -f "$kdir/release" ] && [ -d "$kdir/obj" ] ||
		die "HUGEPFN_PATCHED_KDIR=$kdir needs $image_name, release and obj/"
	kernel_image=$kdir/$image_name
	module_kdir=$kdir/obj
	# A prefix of the series has only some of its features (kernel/prefix-boots.sh).
	features=${HUGEPFN_PATCHED_FEATURES-$(series_features)}
	guest_out=patched-custom$vtag-$arch
elif [ "$kind" = patched ]; then
	kdir=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --arch "$arch")
	kernel_image=$kdir/$image_name
	module_kdir=$kdir/obj
	features=$(series_features)
	[ "$arch" = x86_64 ] || guest_out=patched$vtag-$arch
elif [ "$kind" = base ]; then
	# The same source and config without the series: no series features.
	kdir=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --base)
	kernel_image=$kdir/$image_name
	module_kdir=$kdir/obj
	features=
else
	kdir=$("$HUGEPFN_ROOT/tests/vm/stock-kernel.sh" --linux "$linux")
	kernel_image=$kdir/vmlinuz
	module_kdir=$kdir/build
	features=
fi
release=$(cat "$kdir/release")

# --- userspace and modules ---------------------------------------------------
"$HUGEPFN_ROOT/tests/vm/build-guest.sh" "$kind" "$module_kdir" "$release" "$guest_out" "$arch" "$linux" >&2
initramfs=$HUGEPFN_BUILD/vm/$guest_out/initramfs.cpio

# --- boot --------------------------------------------------------------------
mkdir -p "$logdir"
# A kernel oops panics and so ends the VM at once (panic=-1 reboots, and
# -no-reboot turns that into qemu exiting) instead of hanging until the
# time limit; warnings do not, so the run goes on and reports them.
# Device memory: a 2 GiB ivshmem BAR2 (64-bit prefetchable, naturally aligned
# above 4 GiB: two whole 1 GiB blocks for PUD leaves), a small one for
# fallback cases, and a 64 MiB carveout of guest RAM (x86: reserved with
# memmap= at 1 GiB). A virtio-rng device (no guest
# driver binds it) brings a BAR with an MSI-X table, which VFIO describes
# with a region capability.
common_args="panic=-1 oops=panic loglevel=7 hpfn.kernel=$kind hpfn.features=$features hpfn.tests=$tests"
if [ "$arch" = arm64 ]; then
	# arm64 (qemu virt, RAM from 1 GiB): the carveout is the last 64 MiB of
	# the 2 GiB, kept from the kernel with mem= (arm64 has no memmap=); the
	# BARs land in virt's 64-bit PCIe window. TAP goes to a virtio console,
	# since virt has one UART. pauth-impdef: qemu's fast pointer
	# authentication (the architected one dominates TCG time).
	cmdline="console=ttyAMA0 mem=1984M hpfn.carveout=64M@0xbc000000 hpfn.tap=/dev/hvc0 ${LINUX_ARM64_APPEND:+$LINUX_ARM64_APPEND }$common_args $append"
	qemu=(
		qemu-system-aarch64 -machine virt,highmem=on -accel tcg -cpu max,pauth-impdef=on
		-smp 4 -m 2G -display none -no-reboot -nodefaults
		-kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline"
		-serial "file:$logdir/console.log"
		-device virtio-serial-device
		-chardev "file,id=hpfntap,path=$logdir/tap.log" -device virtconsole,chardev=hpfntap
	)
else
	cmdline="console=ttyS0 memmap=64M\$0x40000000 hpfn.carveout=64M@0x40000000 $common_args $append"
	# Multi-threaded TCG lets the 4 vCPUs of the patched kernel really run in
	# parallel (the stress tests want that). The stock kernel boots with
	# single-threaded TCG: its boot-time code patching (int3-based text_poke)
	# hit a qemu cross-modifying-code race under MTTCG ("Oops: int3" in
	# sched_clock_cpu while marking sched_clock stable), a qemu problem that
	# has nothing to do with the code under test.
	accel=tcg
	iommu=()
	[ "$kind" = stock ] && accel=tcg,thread=single
	if [ "$kind" = stock ] || [ -n "$want_iommu" ]; then
		# The stock kernel has no VFIO no-IOMMU mode, and the VFIO device cdev
		# works only behind an IOMMU: an emulated one, created before the PCI
		# devices so that they sit behind it.
		iommu=(-device intel-iommu,intremap=on)
		cmdline="$cmdline intel_iommu=on"
	fi
	qemu=(
		qemu-system-x86_64 -machine q35 -accel "$accel" -cpu max -smp 4 -m 2G
		-display none -no-reboot -nodefaults
		-kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline"
		-serial "file:$logdir/console.log" -serial "file:$logdir/tap.log"
		"${iommu[@]}"
	)
fi
qemu+=(
	-object memory-backend-ram,id=hpfnbig,size=2G,share=on
	-device ivshmem-plain,memdev=hpfnbig,id=ivbig
	-object memory-backend-ram,id=hpfnsmall,size=1M,share=on
	-device pcie-root-port,id=hpfnrp,slot=1,chassis=1
	-device ivshmem-plain,memdev=hpfnsmall,id=ivsmall,bus=hpfnrp
	-device virtio-rng-pci,vectors=2,id=hpfnrng
	-monitor "unix:$logdir/monitor.sock,server,nowait"
)
printf '%q ' "${qemu[@]}" > "$logdir/qemu.cmd"
say "[$name] booting $release under TCG ($tests; limit ${timeout_s}s)"
start=$(date +%s)
set +e
timeout --kill-after=10 "$timeout_s" "${qemu[@]}" > "$logdir/qemu.out" 2>&1 &
qpid=$!
# Guest tests ask the host for things only the host can do (hot-unplug a
# device) with "# hpfn-host: MONITOR-COMMAND" lines; run them on the qemu
# monitor as they appear.
done_cmds=0
while kill -0 "$qpid" 2>/dev/null; do
	mapfile -t cmds < <(sed -n 's/^# hpfn-host: \(.*\)\r\?$/\1/p' "$logdir/tap.log" 2>/dev/null)
	while [ "$done_cmds" -lt "${#cmds[@]}" ]; do
		say "[$name] guest asks the host: ${cmds[$done_cmds]}"
		python3 - "$logdir/monitor.sock" "${cmds[$done_cmds]}" <<'PY' >> "$logdir/monitor.log" 2>&1
import socket, sys
import time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)

def until_prompt():
    buf = b""
    while not buf.rstrip().endswith(b"(qemu)"):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf

until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
# the command has run when the monitor prompts again
print(until_prompt().decode(errors="replace"))
PY
		done_cmds=$((done_cmds + 1))
	done
	sleep 0.2
done
wait "$qpid"
qrc=$?
set -e
elapsed=$(( $(date +%s) - start ))
say "[$name] guest finished in ${elapsed}s"

# --- results -----------------------------------------------------------------
tap=$logdir/tap.log
touch "$tap" "$logdir/console.log"
# The serial port adds carriage returns.
sed -i 's/\r$//' "$tap" "$logdir/console.log"
fail=0
# The guest's TAP, held to each program's plan and to the allowed skips.
python3 "$HUGEPFN_ROOT/tests/vm/check-run.py" tap --name "$name" --kernel "$kind" --linux "$linux" --arch "$arch" \
	--tests "$tests" --skips "$HUGEPFN_ROOT/tests/vm/expected-skips.list" "$tap" > "$logdir/results.tap" ||
	fail=1
cat "$logdir/results.tap"
n=$(grep -cE '^(not )?ok [0-9]+ ' "$logdir/results.tap" || true)
problems=()
# check-run.py has said that the guest did not reach its end; say why.
if ! grep -q '^# hpfn-done' "$tap"; then
	if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
		problems+=("the guest did not finish within ${timeout_s}s (qemu killed)")
	else
		problems+=("the guest stopped before finishing its tests (qemu exit status $qrc: kernel panic or crash?)")
	fi
fi
# Kernel log problems (tests/vm/check-run.py classes: WARNING, BUG, Oops,
# lockdep, RCU stalls, UBSAN, KASAN, KFENCE, hung tasks, soft lockups,
# page-table checks...): any of them fails the run, whatever the tests said.
if python3 "$HUGEPFN_ROOT/tests/vm/check-run.py" kernel-log "$logdir/console.log" \
	> "$logdir/kernel-problems.txt"; then
	:
else
	problems+=("the kernel log has $(wc -l < "$logdir/kernel-problems.txt") problem line(s), first: $(head -n 1 "$logdir/kernel-problems.txt" | tr '\t' ' ')")
fi
# Known 6.12 behaviour worth a note but not a failure (see README).
if grep -q 'freeing invalid memtype' "$logdir/console.log"; then
	echo "# [$name] note: kernel logged 'x86/PAT: freeing invalid memtype' (known 6.12 partial-unmap behaviour)"
fi
for p in "${problems[@]}"; do
	fail=1 n=$((n + 1))
	echo "not ok $n - [$name] $p"
done
summary=$(sed -n "s/^# \[$name\] TAP: //p" "$logdir/results.tap")
echo "# [$name] $summary, $((${#problems[@]})) harness problem(s) (kernel $release, ${elapsed}s; logs: $logdir)"
if [ "$fail" -ne 0 ]; then
	{
		echo "---- [$name] last 40 lines of the guest kernel log ($logdir/console.log) ----"
		tail -n 40 "$logdir/console.log"
		echo "---- end of kernel log ----"
	} >&2
	exit 1
fi
exit 0

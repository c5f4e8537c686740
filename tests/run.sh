#!/usr/bin/env bash
# The hugepfn test command: host unit tests (ABI checks included), the
# same under ASan+UBSan, an LTO build of the library and the tool, the
# tool under valgrind, the VM harness self-tests, every guest test on the
# patched and the stock 6.12 kernel (x86_64), the random stress test on
# both (a boot each), the demo on both, the 6.12 series' prefix checks
# (x86_64), Debian packages of the patched 6.12 kernel (the test config)
# installed with the project's packages in a fresh root and booted; the
# 7.3 series' prefix checks (x86_64) and every guest test on the patched
# and the stock 7.3 kernel. --full adds upstream's mm selftests
# and the other architectures. Installs the Debian packages it needs and
# builds what it needs (kernels are cached). Ends with one line:
# "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "$0")/vm/common.sh"

case "${1:-}" in
	-h|--help)
		cat <<'USAGE'
Usage: tests/run.sh [--no-vm|--full]

Runs the Meson build and host unit tests (with the ABI checks: the
exported symbols, and abidiff against lib/abi/libhugepfn.abi; and the
meson install test), the host unit tests again built with ASan+UBSan, an
LTO build (the exports and the tool), the tool's test with the tool under
valgrind, a libFuzzer run over the text parsers, the Debian packages built
and installed in fresh Debian 12 roots (tests/packages.sh: lintian, DKMS
against the stock 6.12 headers and against the patched kernel's), the VM
harness self-tests; on Linux 6.12: the series' prefix checks (x86_64),
Debian packages of the patched kernel with the test config
(kernel/package.sh), booted from what they install with some guest tests,
the guest tests on the patched kernel and on
Debian's stock 6.12 kernel (x86_64), the random stress test (t_pfn_stress)
on both in a boot of its own, examples/demo.sh on both; on Linux 7.3: the
series' prefix checks (x86_64), the userspace build against 7.3's uAPI
headers, the guest tests on the patched and on Debian's stock 7.3 kernel
(x86_64). Each stage prints its time. The first run builds the kernels
(about an hour on 2 cores from nothing); later runs reuse them from
~/.cache/hugepfn while their inputs are unchanged.

  --no-vm   the host stages only: unit and ABI tests, ASan+UBSan, LTO,
            valgrind, fuzzing (no kernel build, no VM; a few minutes)
  --full    also what CI's 75 minutes leave out (README, "What runs
            where"): upstream's mm selftests with and without each series
            (6.12 and 7.3), the 7.3 series' prefix checks for arm64,
            ppc64le and riscv64, its ppc64le and arm64 builds and the
            guest tests on the patched 7.3 arm64 kernel (well over an
            hour more from nothing)
USAGE
		exit 0 ;;
	--no-vm) novm=1 full= ;;
	--full) novm= full=1 ;;
	"") novm= full= ;;
	*) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

LOG=$HUGEPFN_BUILD/test-results
mkdir -p "$HUGEPFN_BUILD"
: > "$LOG.tap"
stage_fail=0
times=()

# What runs where (README, "What runs where"): the test command runs every
# x86_64 stage of both versions but upstream's mm selftests: 6.12 (the LTS
# backport) and 7.3 (the upstream series) each compile every prefix, build,
# boot and run every guest test on the patched and the stock kernel. With
# --full it also runs the mm selftests and the other architectures, each
# on the version named here (a check moves by changing a word); CI's 75
# minutes from an empty cache leave no room for them.
CROSS_PREFIX_CHECKS=(arm64:7.3 ppc64le:7.3 riscv64:7.3) # --full: ARCH:VERSION, every prefix compiles
CROSS_BUILDS=(ppc64le:7.3 arm64:7.3)            # --full: ARCH:VERSION, the whole series builds
ARM64_VM_LINUX=7.3                              # --full: the arm64 VM boots this version

# stage NAME CMD...: run a stage, keep its TAP lines, record its time.
stage() {
	local name=$1 t0 rc
	shift
	say "== $name"
	t0=$(date +%s)
	"$@" 2>&1 | tee -a "$LOG.tap"
	rc=${PIPESTATUS[0]}
	times+=("$name: $(( $(date +%s) - t0 ))s")
	say "== $name: $(( $(date +%s) - t0 ))s"
	if [ "$rc" -ne 0 ]; then
		stage_fail=1
		# A stage that failed without saying which test failed still counts.
		echo "not ok - stage '$name' failed (exit status $rc)" | tee -a "$LOG.tap"
	fi
}

# meson_tap PREFIX LOG: one TAP line per unit-test case from a Meson test
# log (meson-logs/*.json), named [PREFIX/TEST] CASE; a test that failed as
# a whole also gets a line, and the end of its stderr as comments (where a
# sanitizer or valgrind says what it found).
meson_tap() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
prefix, log = sys.argv[1:]
try:
    lines = open(log).readlines()
except OSError as e:
    print(f"not ok - [{prefix}] no Meson test log: {e}")
    sys.exit(1)
for line in lines:
    t = json.loads(line)
    for l in t.get("stdout", "").splitlines():
        m = re.match(r"(not ok|ok) \d+ - (.*)", l)
        if m:
            print(f"{m.group(1)} - [{prefix}/{t['name']}] {m.group(2)}")
    if t.get("result") == "SKIP":
        why = re.search(r"^1\.\.0 # SKIP ?(.*)", t.get("stdout", ""), re.M)
        print(f"ok - [{prefix}/{t['name']}] # SKIP {why.group(1) if why else 'skipped'}")
    elif t.get("result") not in ("OK", "EXPECTEDFAIL"):
        print(f"not ok - [{prefix}/{t['name']}] meson result {t.get('result')}")
        for l in t.get("stderr", "").splitlines()[-40:]:
            print(f"#   {l}")
PY
}

unit_tests() {
	need_all_packages
	meson_setup_build || return 1
	rm -f "$HUGEPFN_BUILD/meson-logs/testlog.json"
	meson test -C "$HUGEPFN_BUILD" --print-errorlogs >/dev/null
	local rc=$?
	meson_tap unit "$HUGEPFN_BUILD/meson-logs/testlog.json" || rc=1
	abi_tests_ran "$HUGEPFN_BUILD/meson-logs/testlog.json" || rc=1
	return $rc
}

# abi_tests_ran LOG: on x86_64, where this script installs abigail-tools
# and the baseline's architecture is the build's, every test of suite abi
# ran to the end: one that skipped (abidw missing, no debug information)
# guarded nothing, and fails here. Elsewhere a skip is a skip.
abi_tests_ran() {
	[ "$(uname -m)" = x86_64 ] || return 0
	python3 - "$1" <<'PY'
import json, sys
want = ["exports", "abi", "macros", "pkgconfig", "abi_checkers"]
got = {}
for line in open(sys.argv[1]):
    t = json.loads(line)
    suite, _, name = t["name"].rpartition(" / ")  # "hugepfn:abi / exports"
    if suite.endswith(":abi"):
        got[name] = t.get("result")
bad = [f"{n}: {got.get(n, 'not run')}" for n in want if got.get(n) != "OK"]
if bad:
    print(f"not ok - [unit] the ABI tests ran, none skipped (x86_64): {', '.join(bad)}")
    sys.exit(1)
print(f"ok - [unit] the ABI tests ran, none skipped (x86_64): {', '.join(want)}")
PY
}

# asan_tests: the host unit tests again (the tool's test included, so the
# tool too), from a second build directory with AddressSanitizer and
# UBSan (any finding fails), without the static guest programs, which
# cannot be sanitized, and without the DPDK example. The ABI tests
# (suite abi) ran in the plain build.
asan_tests() {
	local dir=$HUGEPFN_BUILD/asan stamp rc
	local opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all
		-Dguest_programs=false -Ddpdk=disabled -Dkernel_uapi="${HUGEPFN_KERNEL_UAPI:-}")
	need_all_packages
	stamp=$dir/.hugepfn-meson-options
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	elif [ "$(cat "$stamp" 2>/dev/null)" != "${opts[*]}" ]; then
		meson setup --reconfigure "$dir" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	fi
	echo "${opts[*]}" > "$stamp"
	rm -f "$dir/meson-logs/testlog.json"
	# A finding aborts (SIGABRT), which no test mistakes for an expected
	# exit status.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
		meson test -C "$dir" --no-suite abi --timeout-multiplier 3 --print-errorlogs >/dev/null
	rc=$?
	meson_tap asan "$dir/meson-logs/testlog.json" || rc=1
	return $rc
}

# lto_build: the library, its static archive and the tool built with LTO,
# both ways a distribution asks for it: -Db_lto=true and, as Debian's and
# Ubuntu's packaging does, CFLAGS/LDFLAGS with -flto=auto
# -ffat-lto-objects. The archive must still define only the API (the
# exports test) and the tool, which links it, must link and run (its test).
# Without the DPDK example and the static guest programs; nothing else of
# the tree is built.
lto_build() {
	local dir=$HUGEPFN_BUILD/lto stamp rc
	local flags='-flto=auto -ffat-lto-objects'
	local opts=(-Db_lto=true -Dguest_programs=false -Ddpdk=disabled -Dkernel_uapi="${HUGEPFN_KERNEL_UAPI:-}")
	need_all_packages
	stamp=$dir/.hugepfn-meson-options
	if [ ! -f "$dir/build.ninja" ]; then
		CFLAGS=$flags LDFLAGS=$flags meson setup "$dir" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	elif [ "$(cat "$stamp" 2>/dev/null)" != "$flags ${opts[*]}" ]; then
		rm -rf "$dir"
		CFLAGS=$flags LDFLAGS=$flags meson setup "$dir" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	fi
	echo "$flags ${opts[*]}" > "$stamp"
	rm -f "$dir/meson-logs/testlog.json"
	if ! meson compile -C "$dir" lib/hugepfn:shared_library lib/libhugepfn.a tools/hugepfn:executable \
		> "$dir/compile.log" 2>&1; then
		echo "not ok - [lto] the library, libhugepfn.a and the tool build with LTO"
		tail -n 40 "$dir/compile.log" | sed 's/^/#   /'
		return 1
	fi
	echo "ok - [lto] the library, libhugepfn.a and the tool build with LTO"
	meson test -C "$dir" --no-rebuild --print-errorlogs exports tool >/dev/null
	rc=$?
	meson_tap lto "$dir/meson-logs/testlog.json" || rc=1
	return $rc
}

# valgrind_tool: the tool's test (tests/unit/test_tool.py) once more from
# the plain build, each run of the tool under valgrind (memcheck): an error
# or a definite leak fails the run (exit status 99).
valgrind_tool() {
	local rc
	need_all_packages
	meson_setup_build || return 1
	rm -f "$HUGEPFN_BUILD/meson-logs/valgrind.json"
	HUGEPFN_TOOL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet" \
		meson test -C "$HUGEPFN_BUILD" --logbase valgrind --timeout-multiplier 10 tool >/dev/null
	rc=$?
	meson_tap valgrind "$HUGEPFN_BUILD/meson-logs/valgrind.json" || rc=1
	return $rc
}

# refused DESCRIPTION EXPECTED CONFIG: kernel/package.sh --config CONFIG
# must fail with exit 1, saying EXPECTED, before building anything.
refused() {
	local msg rc=0 out=$HUGEPFN_BUILD/kernel-packages-refused
	rm -rf "$out"
	msg=$("$HUGEPFN_ROOT/kernel/package.sh" --config "$3" --out "$out" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && grep -qF "$2" <<<"$msg" && ! ls "$out"/*.deb >/dev/null 2>&1; then
		echo "ok - kernel/package.sh refuses $1, saying so, building nothing"
	else
		echo "not ok - kernel/package.sh refuses $1, saying so, building nothing (exit $rc)"
		sed 's/^/#   /' <<<"$msg"
	fi
}

# kernel_packages: kernel/package.sh refuses what it cannot build from,
# accepts Debian's own configuration, and packages the patched 6.12
# kernel with the test config into build/kernel-packages (emptied first:
# the stages after it must not find an earlier run's packages).
kernel_packages() {
	local kdir opt cfg msg rc stock debs=$HUGEPFN_BUILD/kernel-packages
	rm -rf "$debs"
	kdir=$("$HUGEPFN_ROOT/kernel/build.sh") || return 1
	for opt in TRANSPARENT_HUGEPAGE 64BIT; do
		cfg=$HUGEPFN_BUILD/no-$opt.config
		sed "s/^CONFIG_$opt=y\$/# CONFIG_$opt is not set/" "$kdir/config" > "$cfg"
		refused "a configuration without CONFIG_$opt" "CONFIG_$opt is not set" "$cfg"
	done
	grep -E '^CONFIG_(TRANSPARENT_HUGEPAGE|64BIT)=' "$kdir/config" > "$HUGEPFN_BUILD/fragment.config"
	refused "a fragment" "not a whole kernel configuration" "$HUGEPFN_BUILD/fragment.config"
	sed 's/^CONFIG_X86_64=y$/CONFIG_ARM64=y/' "$kdir/config" > "$HUGEPFN_BUILD/other-arch.config"
	refused "another architecture's configuration" "no CONFIG_X86_64=y" "$HUGEPFN_BUILD/other-arch.config"
	# Debian's own configuration (the stock cloud kernel's) passes the
	# checks, with Debian's signing certificates and debug information off
	stock=$("$HUGEPFN_ROOT/tests/vm/stock-kernel.sh") || return 1
	rc=0
	msg=$("$HUGEPFN_ROOT/kernel/package.sh" --check --config "$stock/config" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && [ "$(tail -n 1 <<<"$msg")" = "$(sed "s/[-+].*//" "$stock/release")-hugepfn" ]; then
		echo "ok - kernel/package.sh --check: Debian's $(cat "$stock/release") configuration has what the series needs"
	else
		echo "not ok - kernel/package.sh --check: Debian's $(cat "$stock/release") configuration has what the series needs (exit $rc)"
		sed 's/^/#   /' <<<"$msg"
	fi
	"$HUGEPFN_ROOT/kernel/package.sh" --test-config --out "$debs" >/dev/null
}

# kernel_debs_args: --kernel-debs DIR for tests/packages.sh when the stage
# before made the packages (without them it still checks the rest).
kernel_debs_args() {
	ls "$HUGEPFN_BUILD"/kernel-packages/linux-image-*.deb >/dev/null 2>&1 &&
		echo "--kernel-debs $HUGEPFN_BUILD/kernel-packages"
}

# packaged_kernel_vm: the kernel of kernel/package.sh's packages, unpacked
# as dpkg installs them, boots with the guest tests of the installed flow:
# its image, and for the guest's modules the build tree its headers
# package installs (what DKMS builds against).
packaged_kernel_vm() {
	local debs=$HUGEPFN_BUILD/kernel-packages d kver src
	local root=$debs/unpacked kdir=$debs/kdir
	rm -rf "$root" "$kdir"
	mkdir -p "$root" "$kdir"
	for d in "$debs"/linux-image-*.deb "$debs"/linux-headers-*.deb; do
		dpkg-deb -x "$d" "$root" || { echo "not ok - dpkg-deb -x $d"; return 1; }
	done
	kver=$(ls "$root/lib/modules")
	src=$("$HUGEPFN_ROOT/kernel/build.sh" --tree) || return 1
	ln -s "$root/boot/vmlinuz-$kver" "$kdir/bzImage"
	ln -s "$root/usr/src/linux-headers-$kver" "$kdir/obj"
	ln -s "$src" "$kdir/src"
	echo "$kver" > "$kdir/release"
	HUGEPFN_PATCHED_KDIR=$kdir "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel patched --name patched-packaged \
		--tests t_sysfs_bar,t_doctor,t_persist,t_kselftest_remap
}

# demo KIND: the README's main job, examples/demo.sh (patched, or --stock),
# as a user runs it: it must exit 0 and print the page sizes the kernel
# really gives on that kernel (tests/vm/check-demo.py).
demo() {
	local out=$HUGEPFN_BUILD/demo-$1.out rc args=()
	[ "$1" = stock ] && args=(--stock)
	"$HUGEPFN_ROOT/examples/demo.sh" "${args[@]}" > "$out"
	rc=$?
	echo "# examples/demo.sh output: $out"
	if [ $rc -eq 0 ]; then
		echo "ok - demo ($1): examples/demo.sh exits 0"
	else
		echo "not ok - demo ($1): examples/demo.sh exits $rc"
	fi
	python3 "$HUGEPFN_ROOT/tests/vm/check-demo.py" "$1" "$out" && [ $rc -eq 0 ]
}

# uapi_build VERSION: the library, the tool and the examples built against
# that Linux version's uAPI headers (kernel/build.sh --uapi) in a build
# directory of their own; the VM guests of every version use the main
# build, made against 6.12's.
uapi_build() {
	local dir=$HUGEPFN_BUILD/uapi-$1 uapi
	uapi=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$1" --uapi) || return 1
	if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/.hugepfn-uapi" 2>/dev/null)" != "$uapi" ]; then
		rm -rf "$dir"
		meson setup "$dir" "$HUGEPFN_ROOT" -Dkernel_uapi="$uapi" -Dguest_programs=false \
			>/dev/null || return 1
		echo "$uapi" > "$dir/.hugepfn-uapi"
	fi
	if ninja -C "$dir" > "$dir/compile.log" 2>&1; then
		echo "ok - [uapi-$1] the library, the tool, the examples and the host tests build against $uapi"
	else
		echo "not ok - [uapi-$1] the library, the tool, the examples and the host tests build against $uapi"
		tail -n 40 "$dir/compile.log" | sed 's/^/#   /'
		return 1
	fi
}

# mm_selftests VERSION: upstream's mm selftests of Linux VERSION
# (tests/vm/guest/t_mm_selftests.sh) on the patched kernel and on the base
# kernel (the same source and config without the series), compared check
# by check: anything that passes without the series and not with it fails
# (tests/vm/compare-mm-selftests.py). The per-check "# mm-result" lines
# stay in the runs' tap.log files (build/vm-logs/mm-{patched,base}[-7.3]).
mm_selftests() {
	local ver=$1 rc=0 run base patched suffix=
	[ "$ver" = 6.12 ] || suffix=-$ver
	base=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$ver" --base --print-dir) || return 1
	patched=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$ver" --print-dir) || return 1
	# The same config but for the symbol the series adds, or the
	# comparison says nothing about the series.
	if diff <(grep -v '^CONFIG_ARCH_HAS_PTE_FORMAT_LEAF_PGPROT=' "$base/config") \
		<(grep -v '^CONFIG_ARCH_HAS_PTE_FORMAT_LEAF_PGPROT=' "$patched/config") >&2; then
		echo "ok - mm selftests ($ver): the base kernel's config is the patched one's without the series' symbol"
	else
		echo "not ok - mm selftests ($ver): the base kernel's config differs from the patched one's (above)"
		rc=1
	fi
	# The per-program limits of t_mm_selftests.sh add up to ~1300 s; the
	# runs take about 4 minutes.
	for run in patched base; do
		"$HUGEPFN_ROOT/tests/vm/run-vm.sh" --linux "$ver" --kernel "$run" --tests t_mm_selftests \
			--name "mm-$run$suffix" --append hpfn.test_timeout=1500 --timeout 1800 |
			grep -v '^# mm-\(result\|run\) '
		[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	done
	python3 "$HUGEPFN_ROOT/tests/vm/compare-mm-selftests.py" "$HUGEPFN_BUILD/vm-logs/mm-base$suffix/tap.log" \
		"$HUGEPFN_BUILD/vm-logs/mm-patched$suffix/tap.log" || rc=1
	return $rc
}

if [ -z "$novm" ]; then
	# The 6.12 uAPI headers, so that the host build has the VFIO cdev backend
	# the VM tests use (--no-vm builds against the system's and skips it).
	need_all_packages
	HUGEPFN_KERNEL_UAPI=$("$HUGEPFN_ROOT/kernel/build.sh" --uapi) || exit 1
	export HUGEPFN_KERNEL_UAPI
fi
stage "host unit tests" unit_tests
stage "host unit tests under ASan+UBSan" asan_tests
stage "LTO build: the library's exports, the tool" lto_build
stage "the tool under valgrind" valgrind_tool
stage "fuzzing the parsers and the tool's command line" "$HUGEPFN_ROOT/tests/fuzz/run.sh" 20
if [ -z "$novm" ]; then
	# Linux 6.12, x86_64: everything.
	stage "series 6.12: every prefix compiles (x86_64)" "$HUGEPFN_ROOT/kernel/build.sh" --prefixes
	stage "patched kernel build (6.12)" "$HUGEPFN_ROOT/kernel/build.sh"
	# Debian packages of that kernel (the same config: ccache makes it a
	# few minutes), then the project's packages, built and installed in
	# fresh Debian 12 roots with DKMS against the stock 6.12 cloud headers
	# and the patched kernel's (about 5 minutes cold), then the packaged
	# kernel booted.
	stage "kernel packages of the patched 6.12 kernel (test config)" kernel_packages
	stage "Debian packages: build, lintian, install in a fresh root, DKMS (stock and patched kernel)" \
		"$HUGEPFN_ROOT/tests/packages.sh" $(kernel_debs_args)
	stage "VM tests, the packaged patched kernel" packaged_kernel_vm
	stage "harness self-tests" "$HUGEPFN_ROOT/tests/vm/selftest.sh" patched
	stage "VM tests, patched kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel patched
	stage "VM tests, patched kernel behind an IOMMU" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel patched \
		--iommu --name patched-iommu --tests t_lib
	stage "VM tests, stock kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel stock
	# t_pfn_stress leaves x86 PAT memtype entries all over the BAR (6.12's
	# partial-unmap behaviour): a boot of its own on each kernel.
	stage "VM random stress, patched kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel patched \
		--tests t_pfn_stress --name patched-stress
	stage "VM random stress, stock kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel stock \
		--tests t_pfn_stress --name stock-stress
	stage "examples/demo.sh, patched kernel" demo patched
	stage "examples/demo.sh --stock" demo stock
	# Linux 7.3, x86_64: every prefix, every guest test on the patched
	# kernel and on Debian's stock 7.3.
	stage "series 7.3: every prefix compiles (x86_64)" "$HUGEPFN_ROOT/kernel/build.sh" --linux 7.3 --prefixes
	stage "patched kernel build (7.3)" "$HUGEPFN_ROOT/kernel/build.sh" --linux 7.3
	stage "userspace build against the 7.3 uAPI headers" uapi_build 7.3
	stage "VM tests, patched 7.3 kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --linux 7.3 --kernel patched
	stage "VM tests, stock 7.3 kernel" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" --linux 7.3 --kernel stock
fi
if [ -n "$full" ]; then
	for ver in 6.12 7.3; do
		stage "upstream mm selftests, patched vs. base kernel ($ver, x86_64)" mm_selftests "$ver"
	done
	# The other architectures, each on the version named above.
	for check in "${CROSS_PREFIX_CHECKS[@]}"; do
		stage "series ${check#*:}: every prefix compiles (${check%%:*})" \
			"$HUGEPFN_ROOT/kernel/build.sh" --linux "${check#*:}" --arch "${check%%:*}" --prefixes
	done
	for check in "${CROSS_BUILDS[@]}"; do
		stage "patched kernel build (${check#*:}, ${check%%:*})" \
			"$HUGEPFN_ROOT/kernel/build.sh" --linux "${check#*:}" --arch "${check%%:*}"
	done
	stage "VM tests, patched $ARM64_VM_LINUX kernel, arm64" "$HUGEPFN_ROOT/tests/vm/run-vm.sh" \
		--linux "$ARM64_VM_LINUX" --kernel patched --arch arm64
fi

pass=$(grep -cE '^ok( [0-9]+)? - ' "$LOG.tap" | head -1)
skip=$(grep -cE '^ok( [0-9]+)? - .*# SKIP' "$LOG.tap" | head -1)
fail=$(grep -cE '^not ok( [0-9]+)? - ' "$LOG.tap" | head -1)
pass=$((pass - skip))
# Skips per VM run (each one allowed by tests/vm/expected-skips.list).
per_run=$(sed -n 's/^ok [0-9]* - \[\([^]]*\)\] .*# SKIP.*/\1/p' "$LOG.tap" | sort | uniq -c |
	awk '{ printf "%s%s: %s", sep, $2, $1; sep = ", " }')
echo
echo "Stage times: ${times[*]/%/;}"
echo "Results: $LOG.tap; VM logs: $HUGEPFN_BUILD/vm-logs/"
echo "$pass passed, $fail failed, $skip skipped${per_run:+ ($per_run)}"
[ "$fail" -eq 0 ] && [ "$stage_fail" -eq 0 ] && [ "$pass" -gt 0 ]

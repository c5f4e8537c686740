#!/usr/bin/env bash
# Boot prefixes of the series: each patch must leave a kernel that is safe
# to run, not only one that compiles. For every prefix asked for, builds
# the x86_64 test kernel of base + the first N patches in full (in a
# worktree and build tree of its own, so the shared ones stay as they are)
# and boots it in the test VM with the guest tests that exercise huge
# leaves, fork, split, zap and mremap, telling them which features that
# prefix has (remap-pmd from the patch that installs PMD leaves on,
# remap-pud from the one that installs PUD leaves on). The kernel log is
# read as in every VM run: a WARNING, BUG, Oops or lockdep report fails.
# Not part of tests/run.sh: about 6 minutes per prefix on 2 cores.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: kernel/prefix-boots.sh [--linux VERSION] [--prefixes LIST] [--tests LIST] [-h|--help]

Builds and boots prefixes of kernel/patches/VERSION/series (x86_64, the test
config) and runs guest tests on each; prints a table of prefix, last
patch, features, result and time. Exit status 0 only when every prefix
booted and passed.

  --linux VERSION  6.12 (the default) or 7.3
  --prefixes LIST  comma-separated prefix numbers (N = the first N patches;
                   default: every prefix from 1 to the whole series)
  --tests LIST     guest tests to run (default t_sysfs_bar,t_fork_race,t_remap:
                   the ones whose expectations follow the features)
  -h, --help       this text

Logs: build/vm-logs/prefix-N/ (prefix-7.3-N) for each boot, and the build log of each
prefix in ~/.cache/hugepfn/obj-prefix/build-N.log (obj-7.3-prefix on 7.3).
USAGE
}

PREFIXES=
TESTS=t_sysfs_bar,t_fork_race,t_remap
linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--prefixes)
			[ $# -ge 2 ] || die "--prefixes needs a list such as 4,8,13 (try --help)"
			PREFIXES=$2; shift ;;
		--tests)
			[ $# -ge 2 ] || die "--tests needs a list of guest tests (try --help)"
			TESTS=$2; shift ;;
		--linux)
			[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
			linux=$2; shift ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

linux_select "$linux"
# The whole series, applied and built once: its config is every prefix's.
full=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --print-dir)
SRC=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --tree | tail -n 1)
mapfile -t commits < <(git -C "$SRC" rev-list --reverse base..hugepfn)
n=${#commits[@]}
[ -n "$PREFIXES" ] || PREFIXES=$(seq -s, 1 "$n")
IFS=, read -r -a wanted <<<"$PREFIXES"
for p in "${wanted[@]}"; do
	case "$p" in ''|*[!0-9]*) die "--prefixes: '$p' is not a number" ;; esac
	[ "$p" -ge 1 ] && [ "$p" -le "$n" ] || die "--prefixes: $p is not between 1 and $n"
done

# 6.12's: linux-prefix and obj-prefix; 7.3's: linux-src-7.3-prefix, obj-7.3-prefix.
if [ -z "$LINUX_CACHE_TAG" ]; then
	WT=$HUGEPFN_CACHE/linux-prefix
else
	WT=$LINUX_SRC-prefix
fi
OBJ=$HUGEPFN_CACHE/obj$LINUX_CACHE_TAG-prefix
if [ ! -e "$WT/.git" ]; then
	say "a worktree of $SRC for the prefixes: $WT (one time)"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$WT" base
fi
mkdir -p "$OBJ"

# features_of N: the features the first N patches provide (x86_64).
features_of() {
	local i subj f=()
	for ((i = 0; i < $1; i++)); do
		subj=$(git -C "$SRC" log -1 --format=%s "${commits[$i]}")
		case "$subj" in
			"mm: install PMD leaves in remap_pfn_range()"*) f+=(remap-pmd) ;;
			"mm: install PUD leaves in remap_pfn_range()"*) f+=(remap-pud) ;;
		esac
	done
	(IFS=,; echo "${f[*]}")
}

# boot_prefix N: build base + N patches in full and boot it; 0 on success.
boot_prefix() {
	local p=$1 kdir=$OBJ/kernel-$1 features
	git -C "$WT" checkout -q -f --detach "${commits[$((p - 1))]}"
	cp "$full/config" "$OBJ/.config"
	say "prefix $p/$n: building bzImage and modules (log: $OBJ/build-$p.log)"
	if ! make -C "$WT" O="$OBJ" RUSTC=false olddefconfig > "$OBJ/build-$p.log" 2>&1 ||
		! make -C "$WT" O="$OBJ" RUSTC=false -j"$JOBS" CC="ccache gcc" \
			KBUILD_BUILD_TIMESTAMP=hugepfn bzImage modules >> "$OBJ/build-$p.log" 2>&1; then
		tail -n 20 "$OBJ/build-$p.log" >&2
		return 1
	fi
	rm -rf "$kdir"
	mkdir -p "$kdir"
	cp "$OBJ/arch/x86/boot/bzImage" "$kdir/"
	make -s -C "$WT" O="$OBJ" kernelrelease > "$kdir/release"
	ln -s "$OBJ" "$kdir/obj"
	# The guest build compiles the series' kselftest from src/, which
	# early prefixes lack; the prefix tests do not run it.
	ln -s "$SRC" "$kdir/src"
	features=$(features_of "$p")
	say "prefix $p/$n: booting with features '${features:-none}'"
	HUGEPFN_PATCHED_KDIR=$kdir HUGEPFN_PATCHED_FEATURES=$features \
		"$HUGEPFN_ROOT/tests/vm/run-vm.sh" --kernel patched --linux "$linux" --tests "$TESTS" \
		--name "prefix$LINUX_CACHE_TAG-$p"
}

exec {lock_fd}>"$HUGEPFN_CACHE/prefix-boots.lock"
flock -n "$lock_fd" || die "another kernel/prefix-boots.sh is running"
rows=()
failed=0
for p in "${wanted[@]}"; do
	start=$(date +%s)
	if boot_prefix "$p"; then verdict=ok; else verdict=FAILED; failed=1; fi
	rows+=("$(printf '%6s  %-62.62s  %-20s  %-6s %5ss' "$p" \
		"$(git -C "$SRC" log -1 --format=%s "${commits[$((p - 1))]}")" \
		"$(features_of "$p")" "$verdict" $(( $(date +%s) - start )))")
done
printf '\n%6s  %-62s  %-20s  %-6s %6s\n' prefix "last patch" features result time
printf '%s\n' "${rows[@]}"
exit "$failed"

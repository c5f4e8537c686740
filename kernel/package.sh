#!/usr/bin/env bash
# Debian packages of the patched kernel for a real machine: Debian's
# linux-source-VERSION plus kernel/patches/VERSION/series, configured from
# the machine's own configuration (or a given one), built with the
# kernel's 'make bindeb-pkg' as linux-image-RELEASE and
# linux-headers-RELEASE, RELEASE ending in -hugepfn.
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: kernel/package.sh [--linux VERSION] [--config FILE | --test-config] [OPTION]...

Builds installable Debian packages of the patched kernel (make bindeb-pkg)
for this machine's architecture: linux-image-RELEASE and
linux-headers-RELEASE (what DKMS builds hugepfn.ko against), RELEASE being
the source's version with LOCALVERSION=-hugepfn (6.12.118-hugepfn). Then,
on the machine: install the two packages, reboot into RELEASE,
'hugepfn doctor' (README.md, "On a real machine, in order").

The configuration, made current with 'make olddefconfig' (new options get
their defaults):
  --config FILE  this configuration (default: /boot/config-$(uname -r), the
                 running kernel's, as Debian installs it)
  --test-config  the test VM's configuration (kernel/config/ over tinyconfig,
                 as kernel/build.sh makes it): minutes instead of the hours a
                 distribution's configuration takes on 2 cores; what the test
                 command packages, installs and boots
It must be a whole configuration (a .config, not a fragment) for this
machine's architecture. The series needs a 64-bit kernel with transparent
huge pages (CONFIG_TRANSPARENT_HUGEPAGE) on an architecture with huge PFN
maps (CONFIG_ARCH_SUPPORTS_PMD_PFNMAP): a configuration without them is
refused before anything is built, saying which option to turn on.

  --check            configure and check the configuration only, build
                     nothing: exit 0 and print the release it would have
                     (seconds, once the first run has unpacked the source
                     and applied the series: a few minutes; like a build,
                     it waits while another kernel build holds the tree)
  --linux VERSION    6.12 (the default) or 7.3, as kernel/build.sh
  --keep-debug-info  keep the configuration's debug information (a -dbg
                     package of several GiB and a build twice as long);
                     by default it is turned off, as the Debian Kernel
                     Handbook advises for kernels built locally
  --out DIR          where the .deb files go (default build/kernel-packages);
                     what an earlier run wrote there (its list:
                     DIR/.kernel-packages) is removed first, nothing else
  -h, --help         this text

Progress goes to stderr (a line a minute while building), the build log to
DIR/build.log; the paths of the packages are printed on stdout. Their
version is RELEASE-YYYYMMDDhhmmss (UTC): each build is newer to dpkg than
the one before. It installs (apt-get) only what a kernel build needs.
Environment: HUGEPFN_CACHE (default ~/.cache/hugepfn), JOBS (default nproc).
USAGE
}

linux=6.12
config=
test_config=
keep_debug=
check_only=
out=$HUGEPFN_BUILD/kernel-packages
while [ $# -gt 0 ]; do
	case "$1" in
		--linux|--config|--out)
			[ $# -ge 2 ] || { usage >&2; die "$1 needs a value"; }
			case "$1" in --linux) linux=$2 ;; --config) config=$2 ;; --out) out=$2 ;; esac
			shift
			;;
		--linux=*) linux=${1#*=} ;;
		--config=*) config=${1#*=} ;;
		--out=*) out=${1#*=} ;;
		--test-config) test_config=1 ;;
		--keep-debug-info) keep_debug=1 ;;
		--check) check_only=1 ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; echo "error: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
linux_select "$linux"
[ -z "$config" ] || [ -z "$test_config" ] || { echo "error: --config and --test-config exclude each other" >&2; exit 2; }
if [ -z "$config" ] && [ -z "$test_config" ]; then
	config=/boot/config-$(uname -r)
	[ -f "$config" ] || die "no $config (the running kernel's configuration): give one with --config FILE, or --test-config"
fi
case "$(uname -m)" in
	x86_64) karch=x86 archsym=X86_64 ;;
	aarch64) karch=arm64 archsym=ARM64 ;;
	*) die "kernel/package.sh builds for x86_64 and arm64 machines only, natively (this is $(uname -m))" ;;
esac
# A whole configuration of this architecture: olddefconfig would make a
# fragment, or another architecture's file, a kernel of defaults that
# boots nothing.
if [ -n "$config" ]; then
	[ -f "$config" ] && [ -r "$config" ] || die "--config $config: no such readable file"
	grep -q '^CONFIG_CC_VERSION_TEXT=' "$config" ||
		grep -qx '# Automatically generated file; DO NOT EDIT.' "$config" ||
		die "--config $config: not a whole kernel configuration (no line CONFIG_CC_VERSION_TEXT= or '# Automatically generated file', which every .config 'make' writes has): give a .config or /boot/config-*, not a fragment"
	grep -qx "CONFIG_$archsym=y" "$config" ||
		die "--config $config: not a configuration for this $(uname -m) machine (no CONFIG_$archsym=y); kernel/package.sh builds natively"
fi
[ -z "$test_config" ] || [ "$karch" = x86 ] ||
	die "--test-config is the x86_64 test VM's configuration; on $(uname -m) give --config FILE"
JOBS=${JOBS:-$(nproc)}
need_packages "${HUGEPFN_KERNEL_PACKAGES[@]}"

# The test configuration: the test kernel's own (built, or found in the
# cache, by kernel/build.sh, which takes the build lock itself).
if [ -n "$test_config" ]; then
	say "the test configuration: the $LINUX_VERSION test kernel's (kernel/build.sh --linux $LINUX_VERSION)"
	config=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$LINUX_VERSION")/config
fi

# One kernel build at a time: this one uses kernel/build.sh's source tree,
# which must hold the whole series while it builds.
mkdir -p "$HUGEPFN_CACHE"
exec {lock_fd}>"$HUGEPFN_CACHE/build.lock"
if ! flock -n "$lock_fd"; then
	say "waiting for another kernel build (kernel/build.sh) to finish"
	flock "$lock_fd"
fi
SRC=$(HUGEPFN_KERNEL_LOCK_FD=$lock_fd "$HUGEPFN_ROOT/kernel/build.sh" --linux "$LINUX_VERSION" --tree)

# A build tree per configuration, kept for the next run (an incremental
# rebuild); the packages are written next to it, into WORK.
key=$( { echo "$LINUX_VERSION $karch ${keep_debug:-nodebug}"; cat "$config"; } | sha256sum | cut -c1-16)
WORK=$HUGEPFN_CACHE/kernel-packages$LINUX_CACHE_TAG/$key
OBJ=$WORK/obj
mkdir -p "$OBJ" "$out"
out=$(cd "$out" && pwd)
LOG=$out/build.log
# The release ends in -hugepfn: LOCALVERSION adds it unless the
# configuration's CONFIG_LOCALVERSION has it already (the test kernel's
# does). Set, even empty, it also keeps the tree's git state ('+') out.
localversion=-hugepfn
grep -qE '^CONFIG_LOCALVERSION=".*-hugepfn"$' "$config" && localversion=
kmake() {
	make -C "$SRC" O="$OBJ" ARCH="$karch" LOCALVERSION="$localversion" "$@"
}

# configure: FILE made current, without what a local build cannot have
# (Debian's certificates, which only its build has) or should not (a git
# hash in the release).
configure() {
	local cfg=(scripts/config --file "$OBJ/.config") key
	cp "$config" "$OBJ/.config"
	(cd "$SRC" && "${cfg[@]}" --disable LOCALVERSION_AUTO \
		--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "")
	# a module signing key the configuration names by a path of another
	# build's tree: the build makes its own instead
	key=$(sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"$/\1/p' "$OBJ/.config")
	case "$key" in
		''|certs/signing_key.pem|pkcs11:*) ;;
		*)
			if [ "${key#/}" = "$key" ] || [ ! -r "$key" ]; then
				say "CONFIG_MODULE_SIG_KEY=\"$key\" is not here: the build makes its own key (certs/signing_key.pem)"
				(cd "$SRC" && "${cfg[@]}" --set-str MODULE_SIG_KEY certs/signing_key.pem)
			fi
			;;
	esac
	if [ -z "$keep_debug" ]; then
		(cd "$SRC" && "${cfg[@]}" --disable DEBUG_INFO --disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
			--disable DEBUG_INFO_DWARF4 --disable DEBUG_INFO_DWARF5 --disable DEBUG_INFO_BTF \
			--enable DEBUG_INFO_NONE)
	fi
	kmake -s olddefconfig >/dev/null 2>"$WORK/config.err" ||
		{ cat "$WORK/config.err" >&2; die "make olddefconfig of $config failed"; }
}

# require SYMBOL WHY: the configuration has SYMBOL=y, or the build is refused.
require() {
	grep -qx "CONFIG_$1=y" "$OBJ/.config" && return 0
	echo "error: $config: CONFIG_$1 is not set after 'make olddefconfig'; $2" >&2
	return 1
}

check_config() {
	local bad=0
	require 64BIT "hugepfn supports 64-bit kernels only (a 32-bit one compiles the series but has no PUD leaves, and nothing tests it booted): use a 64-bit configuration" || bad=1
	require TRANSPARENT_HUGEPAGE "remap_pfn_range() installs PMD and PUD leaves only with transparent huge pages: turn it on (scripts/config --enable TRANSPARENT_HUGEPAGE) and run again" || bad=1
	if [ $bad -eq 0 ]; then
		require ARCH_SUPPORTS_PMD_PFNMAP "this architecture has no huge PFN maps: the series would change nothing" || bad=1
	fi
	[ $bad -eq 0 ] || die "the configuration lacks what the series needs (above); nothing was built"
}

# progress PID: a line a minute while PID (this script) runs: the time and
# what the build compiles.
progress() {
	local pid=$1 t=0 last
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5 & wait $! || true
		t=$((t + 5))
		[ $((t % 60)) -eq 0 ] || continue
		last=$(grep -E '^  [A-Z]+ ' "$LOG" 2>/dev/null | tail -n 1 | sed 's/^ *//')
		say "still building ($((t / 60)) min): ${last:-starting}"
	done
}

say "configuring from $config"
configure
check_config
release=$(kmake -s kernelrelease)
if [ -n "$check_only" ]; then
	say "$config has what the series needs; the packages would be of Linux $release"
	echo "$release"
	exit 0
fi
# What an earlier run wrote to DIR goes; nothing else there is touched.
MANIFEST=$out/.kernel-packages
if [ -f "$MANIFEST" ]; then
	while read -r f; do
		case "$f" in */*|''|.*) ;; *) rm -f "${out:?}/$f" ;; esac
	done < "$MANIFEST"
fi
rm -f "$WORK"/*.deb "$WORK"/*.buildinfo "$WORK"/*.changes "$MANIFEST" "$LOG"
say "building linux-image-$release and linux-headers-$release with $JOBS jobs (log: $LOG; a distribution configuration takes hours on 2 cores)"
start=$(date +%s)
# the packages' Maintainer: whoever builds them, as Debian's tools take it
export DEBEMAIL=${DEBEMAIL:-hugepfn@hugepfn.invalid} DEBFULLNAME=${DEBFULLNAME:-hugepfn kernel/package.sh}
# The build in the foreground, where Ctrl-C reaches it; the progress lines
# from the background, stopped however this script ends.
progress $$ {lock_fd}>&- &
watch=$!
trap 'kill "$watch" 2>/dev/null || true' EXIT
# The package version: the release and when it was built, so that a later
# build (another configuration, a changed series) is newer to dpkg and apt
# than the one installed.
rc=0
kmake -j"$JOBS" CC="ccache gcc" KDEB_PKGVERSION="$release-$(date -u +%Y%m%d%H%M%S)" bindeb-pkg > "$LOG" 2>&1 || rc=$?
kill "$watch" 2>/dev/null || true
if [ $rc -ne 0 ]; then
	tail -n 30 "$LOG" >&2
	die "make bindeb-pkg failed (exit $rc); the full log is $LOG"
fi
shopt -s nullglob
debs=("$WORK"/linux-image-"$release"_*.deb "$WORK"/linux-headers-"$release"_*.deb)
[ ${#debs[@]} -eq 2 ] || die "make bindeb-pkg left no linux-image and linux-headers package of $release in $WORK"
# and the debug symbols when asked for; not linux-libc-dev, whose headers
# would replace Debian's own for every program built on the machine
debs+=("$WORK"/linux-image-"$release"-dbg_*.deb)
# the list first: a copy cut short is removed by the next run all the same
printf '%s\n' "${debs[@]##*/}" build.log > "$MANIFEST"
cp "${debs[@]}" "$out/"
say "built in $(( $(date +%s) - start ))s: $release; install with: sudo dpkg -i $out/linux-image-${release}_*.deb $out/linux-headers-${release}_*.deb"
for d in "${debs[@]}"; do
	echo "$out/$(basename "$d")"
done

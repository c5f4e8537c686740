#!/usr/bin/env bash
# The Debian packages (debian/, README.md "Debian packages"), built and
# proven in fresh Debian 12 roots: built with dpkg-buildpackage from a
# clean copy of this checkout in a minimal bookworm root that has nothing
# but the Build-Depends, checked with lintian, installed with apt into
# another such root next to Debian's stock 6.12 cloud kernel headers, where
# DKMS must build hugepfn.ko, the tool and the library must work, a kernel
# (headers) install must rebuild the module and a purge must take it away.
# TAP on stdout, progress (with the elapsed seconds) on stderr.
set -euo pipefail
. "$(dirname "$0")/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: tests/packages.sh [OPTIONS]     (as root)

Builds the Debian packages and proves them in fresh Debian 12 roots:

  1. a minimal bookworm root (debootstrap --variant=minbase from the
     host's Debian mirror; bookworm, -updates and -security in its apt
     sources), cached in $HUGEPFN_CACHE/debootstrap/bookworm-minbase and
     made again when older than --max-age days; each run works on copies;
  2. in one copy: this checkout (tracked and untracked-but-not-ignored
     files) in /root/src, 'apt-get build-dep' of it (debian/control's
     Build-Depends, nothing else) and 'dpkg-buildpackage -us -uc -b'; the
     build must leave nothing that .gitignore does not cover;
  3. lintian on the .changes: any error (E:) fails;
  4. in another copy: apt-get installs Debian's stock cloud kernel headers
     (linux-headers-KVER, KVER the stock 6.12 kernel tests/vm/common.sh
     pins), then the packages (apt-get install ./*.deb); checks that DKMS
     built and installed hugepfn.ko for KVER (dkms status, the file under
     /lib/modules/KVER/updates/dkms, modinfo's name and vermagic, no
     compiler warning), that the tool, its manual pages and the library
     work (a program built with pkg-config --cflags --libs libhugepfn,
     shared and --static, prints hugepfn_version() = VERSION), that
     reinstalling the kernel headers (the hook a kernel update runs)
     rebuilds a module taken away, and that apt-get purge removes the
     module with the packages;
  5. with --kernel-debs DIR: the patched kernel's packages that
     kernel/package.sh made (linux-image-R and linux-headers-R) install
     there too, and DKMS, through the kernel's hooks, builds hugepfn.ko for
     R as it does on a real machine.

The roots have /proc, /sys and /dev mounted in a private mount namespace
(gone with the script). Output: TAP ("ok N - ...", then "1..N"); exit
status 0 only when all passed. Logs and the packages in build/packages/.
The roots' apt package cache is kept in $HUGEPFN_CACHE/debootstrap/apt-archives,
so a warm run downloads nothing but the package lists.

  --dir DIR        where the run's roots go (default
                   /var/tmp/hugepfn-packages; replaced on each run)
  --keep           keep DIR afterwards (default: delete it)
  --max-age DAYS   make the cached root again when older (default 7; 0: always)
  --kver KVER      the kernel headers to build the module for (default: the
                   stock 6.12 cloud kernel, STOCK_KVER in tests/vm/common.sh)
  --kernel-debs DIR
                   also install the linux-image-*.deb and linux-headers-*.deb
                   in DIR (kernel/package.sh's output) and check DKMS's module
                   for their kernel
  --mirror URL     Debian mirror (default: the host's, from its apt sources)
  -h, --help       this text
USAGE
}

ARGS=("$@")
DIR=/var/tmp/hugepfn-packages
KEEP=
MAX_AGE=7
KVER=$STOCK_KVER
MIRROR=
KERNEL_DEBS=
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--dir) [ $# -ge 2 ] || die "--dir needs a directory (try --help)"; DIR=$2; shift ;;
		--keep) KEEP=1 ;;
		--max-age)
			if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then die "--max-age needs a number of days (try --help)"; fi
			MAX_AGE=$2; shift ;;
		--kver) [ $# -ge 2 ] || die "--kver needs a kernel release (try --help)"; KVER=$2; shift ;;
		--mirror) [ $# -ge 2 ] || die "--mirror needs a URL (try --help)"; MIRROR=$2; shift ;;
		--kernel-debs) [ $# -ge 2 ] || die "--kernel-debs needs a directory (try --help)"; KERNEL_DEBS=$2; shift ;;
		*) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done

# The patched kernel's packages, one image and its headers.
PATCHED_DEBS=()
PATCHED_KVER=
if [ -n "$KERNEL_DEBS" ]; then
	for d in "$KERNEL_DEBS"/linux-image-*.deb "$KERNEL_DEBS"/linux-headers-*.deb; do
		case "$d" in *-dbg_*.deb) ;; *) [ ! -f "$d" ] || PATCHED_DEBS+=("$(realpath "$d")") ;; esac
	done
	[ ${#PATCHED_DEBS[@]} -eq 2 ] ||
		die "--kernel-debs $KERNEL_DEBS: want one linux-image-*.deb and one linux-headers-*.deb (kernel/package.sh makes them)"
	PATCHED_KVER=$(basename "${PATCHED_DEBS[0]}")
	PATCHED_KVER=${PATCHED_KVER#linux-image-}
	PATCHED_KVER=${PATCHED_KVER%%_*}
fi

[ "$(id -u)" -eq 0 ] ||
	die "must run as root: it runs debootstrap, mounts /proc, /sys and /dev into the new roots and chroots into them; run: sudo $0 ${ARGS[*]}"

case "$DIR" in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=$(realpath -m -- "$DIR")
[[ "$DIR" =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "--dir '$DIR': use a path of letters, digits and ._+-/ only"
case "$DIR" in
	/|/bin|/boot|/dev|/etc|/home|/lib*|/media|/mnt|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/usr/*|/var|/var/tmp)
		die "--dir $DIR would replace a system directory; choose a new directory such as /var/tmp/hugepfn-packages" ;;
esac
case "$DIR/" in "$HUGEPFN_ROOT"/*) die "--dir $DIR is inside the checkout; choose a directory outside $HUGEPFN_ROOT" ;; esac
case "$HUGEPFN_ROOT/" in "$DIR"/*) die "--dir $DIR contains the checkout" ;; esac

VERSION=$(cat "$HUGEPFN_ROOT/VERSION")
LOGDIR=$HUGEPFN_BUILD/packages
BASE=$HUGEPFN_CACHE/debootstrap/bookworm-minbase   # the cached root
ARCHIVES=$HUGEPFN_CACHE/debootstrap/apt-archives    # the roots' apt package cache
BUILDROOT=$DIR/build-root                           # this run's copy to build in
ROOT=$DIR/root                                      # and the one to install into

# Everything below runs in a private mount namespace: the mounts in the
# roots go away with this process, even when it is killed.
if [ -z "${HUGEPFN_PACKAGES_NS:-}" ]; then
	# The host only copies, checks and chroots: the build has a root of its own.
	need_packages debootstrap lintian git util-linux
	# Inside a chroot whose root is no mount point (tests/fresh-machine.sh
	# runs the test command in one) '/' cannot be made private (EINVAL):
	# there the new namespace keeps the enclosing one's propagation
	# (private in fresh-machine.sh's), and the cleanup unmounts what this
	# script mounts either way.
	prop=private
	unshare --mount --propagation private true 2>/dev/null || prop=unchanged
	HUGEPFN_PACKAGES_NS=1 exec unshare --mount --propagation "$prop" -- "$BASH" "$0" "${ARGS[@]}"
fi

mkdir -p "$(dirname "$DIR")" "$LOGDIR" "$(dirname "$BASE")" "$ARCHIVES/partial"
exec 9>>"$DIR.lock"
flock -n 9 || die "another tests/packages.sh run is using $DIR; wait for it or choose another --dir"
rm -f "$LOGDIR"/*.log "$LOGDIR"/lintian.txt
rm -rf "$LOGDIR/debs"

# --- TAP ----------------------------------------------------------------------
N=0
FAILED=0
# tap STATUS DESCRIPTION [LOG]: one TAP line, "ok" for STATUS 0; on failure
# the last lines of LOG as diagnostics.
tap() {
	local rc=$1 what=$2 log=${3:-}
	N=$((N + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $N - $what"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $what"
		if [ -n "$log" ] && [ -s "$log" ]; then
			tail -n 15 "$log" | sed 's/^/#   /'
		fi
	fi
	say "$([ "$rc" -eq 0 ] && echo ok || echo 'NOT OK'): $what"
}
bail() {
	echo "Bail out! $*"
	say "giving up: $*"
	exit 1
}

# --- the roots and their cleanup ---------------------------------------------------
# shellcheck disable=SC2317
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	root_kill "$BUILDROOT" "$ROOT"
	root_unmount "$DIR"
	if [ -n "$KEEP" ]; then
		say "kept $DIR (the roots: $BUILDROOT, $ROOT; delete with: rm -rf --one-file-system $DIR)"
	else
		say "deleting $DIR"
		root_remove "$DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM HUP

if [ -e "$DIR" ]; then
	say "replacing what an earlier run left in $DIR"
	root_remove "$DIR" || exit 1
fi
mkdir -p "$DIR"

# --- the Debian 12 root --------------------------------------------------------------
debian_mirrors

# The cached root: debootstrap's minimal bookworm, with the apt sources of
# a Debian 12 install (bookworm, -updates, -security: the stock 6.12
# kernel is in bookworm-security) and no services starting. Made again
# when older than --max-age days or made from another mirror; each run
# works on copies and refreshes the package lists there.
(
	flock 8
	stamp=$BASE/.hugepfn-debootstrap
	if [ -f "$stamp" ] && [ "$(sed -n 's/^mirror //p' "$stamp")" = "$MIRROR $SECURITY" ] &&
		[ -n "$(find "$stamp" -mtime -"$MAX_AGE" 2>/dev/null)" ]; then
		say "reusing the Debian 12 root in $BASE (made $(sed -n 's/^date //p' "$stamp"), --max-age $MAX_AGE days)"
		exit 0
	fi
	say "debootstrap bookworm (minbase) from $MIRROR into $BASE (log: $LOGDIR/debootstrap.log)"
	rm -rf --one-file-system "$BASE.tmp" "$BASE" || exit 1
	t0=$(date +%s)
	debootstrap --variant=minbase bookworm "$BASE.tmp" "$MIRROR" > "$LOGDIR/debootstrap.log" 2>&1 8>&- || {
		tail -n 20 "$LOGDIR/debootstrap.log" >&2
		rm -rf --one-file-system "$BASE.tmp"
		die "debootstrap failed; see $LOGDIR/debootstrap.log (another mirror: --mirror URL)"
	}
	printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
		"$MIRROR" "$MIRROR" "$SECURITY" > "$BASE.tmp/etc/apt/sources.list" || exit 1
	printf '#!/bin/sh\n# tests/packages.sh: no services start in this root\nexit 101\n' > "$BASE.tmp/usr/sbin/policy-rc.d" &&
		chmod 755 "$BASE.tmp/usr/sbin/policy-rc.d"
	rm -rf "$BASE.tmp/var/cache/apt/archives"/*.deb
	printf 'made by tests/packages.sh\nmirror %s %s\ndate %s\n' "$MIRROR" "$SECURITY" "$(date -u +%FT%TZ)" \
		> "$BASE.tmp/.hugepfn-debootstrap" || exit 1
	mv "$BASE.tmp" "$BASE" || exit 1
	say "debootstrap took $(( $(date +%s) - t0 )) s"
) 8>"$BASE.lock" || bail "no Debian 12 root (see above)"

# new_root DIR: a copy of the cached root with what a machine has mounted.
new_root() {
	local r=$1
	cp -a --one-file-system "$BASE" "$r"
	cp -L /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
	mount -t sysfs -o nosuid,nodev,noexec sysfs "$r/sys"
	mount -t devtmpfs -o nosuid,mode=0755 devtmpfs "$r/dev"
	mkdir -p "$r/dev/pts"
	# Its own pty instance (dpkg's log through apt wants one).
	mount -t devpts -o newinstance,nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts "$r/dev/pts"
	mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$r/tmp"
	mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$r/run"
	# The downloaded packages outlive the run: a warm run downloads nothing.
	mount --bind "$ARCHIVES" "$r/var/cache/apt/archives"
}

# run_in ROOTDIR LOG COMMAND: COMMAND (bash) as root in that root, in /root,
# in a clean environment; its output appended to LOG.
run_in() {
	local r=$1 log=$2
	shift 2
	echo "+ $*" >> "$log"
	(umask 022; chroot "$r" env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root && $*" </dev/null >> "$log" 2>&1 9>&- 8>&-)
}
in_root() { run_in "$ROOT" "$@"; }
# timed ROOTDIR LOG WHAT DESCRIPTION COMMAND: COMMAND in that root, how long
# WHAT took said, and one TAP line; the status in rc.
timed() {
	local r=$1 log=$2 what=$3 desc=$4 t0
	t0=$(date +%s)
	rc=0
	run_in "$r" "$log" "$5" || rc=$?
	say "$what took $(( $(date +%s) - t0 )) s"
	tap "$rc" "$desc" "$log"
}
# apt-get in the roots: no recommends (the Build-Depends, and the packages'
# dependencies, must be enough), downloads as root (the package cache is
# the host's directory).
APT="apt-get -y -q -o APT::Sandbox::User=root -o Acquire::Retries=3 --no-install-recommends"

# --- 1. build, in a root of its own ----------------------------------------------
say "copying the Debian 12 root to $BUILDROOT, the checkout to /root/src/hugepfn-$VERSION in it"
new_root "$BUILDROOT"
SRC=$BUILDROOT/root/src/hugepfn-$VERSION
# A repository of exactly the copied files, to see what the build leaves.
copy_checkout "$SRC" tests/packages.sh || bail "could not copy the checkout to $SRC"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

say "apt-get build-dep: the Build-Depends of debian/control in the build root (log: $LOGDIR/build-deps.log)"
timed "$BUILDROOT" "$LOGDIR/build-deps.log" "installing the build dependencies" \
	"apt-get build-dep installs debian/control's Build-Depends in a fresh Debian 12 root" \
	"$APT update && $APT build-dep ./src/hugepfn-$VERSION"
[ "$rc" -eq 0 ] || bail "no build dependencies"

say "dpkg-buildpackage -us -uc -b in the build root (log: $LOGDIR/build.log)"
timed "$BUILDROOT" "$LOGDIR/build.log" dpkg-buildpackage \
	"dpkg-buildpackage -us -uc -b builds the packages there, with nothing but the Build-Depends" \
	"cd src/hugepfn-$VERSION && dpkg-buildpackage -us -uc -b"
[ "$rc" -eq 0 ] || bail "the packages did not build"
OUT=$BUILDROOT/root/src
CHANGES=$OUT/hugepfn_${VERSION}_$(dpkg --print-architecture).changes
[ -f "$CHANGES" ] || bail "no $CHANGES"
mkdir -p "$LOGDIR/debs"
# The packages to install: the .changes' .debs but the debug symbols.
mapfile -t DEBS < <(awk '/^Files:/ { f = 1; next } f && /^ / { print $NF; next } { f = 0 }' "$CHANGES" |
	grep '\.deb$' | grep -v -- '-dbgsym_')
for d in "${DEBS[@]}"; do cp "$OUT/$d" "$LOGDIR/debs/"; done
cp "$CHANGES" "$LOGDIR/debs/"
say "built: ${DEBS[*]} (copies in $LOGDIR/debs)"

debris=$(git -C "$SRC" status --porcelain --untracked-files=all)
printf '%s\n' "$debris" > "$LOGDIR/debris.log"
tap "$([ -z "$debris" ] && echo 0 || echo 1)" "the build leaves nothing that .gitignore misses" "$LOGDIR/debris.log"

# --- 2. lintian -----------------------------------------------------------------
say "lintian on $(basename "$CHANGES") (log: $LOGDIR/lintian.txt)"
lintian --info --display-info "$CHANGES" > "$LOGDIR/lintian.txt" 2>&1 || true
nerr=$(grep -c '^E: ' "$LOGDIR/lintian.txt" || true)
nwarn=$(grep -c '^W: ' "$LOGDIR/lintian.txt" || true)
grep '^[EW]: ' "$LOGDIR/lintian.txt" > "$LOGDIR/lintian-ew.log" || true
tap "$([ "$nerr" -eq 0 ] && echo 0 || echo 1)" "lintian: no errors ($nerr errors, $nwarn warnings)" "$LOGDIR/lintian-ew.log"
grep '^W: ' "$LOGDIR/lintian.txt" | sed 's/^/# lintian /' || true

# --- 3. a second fresh root, for the install ------------------------------------------
say "copying the Debian 12 root to $ROOT"
new_root "$ROOT"
mkdir -p "$ROOT/root/packages"
cp "${DEBS[@]/#/$OUT/}" "$ROOT/root/packages/"

# --- 4. install and check ---------------------------------------------------------
say "apt-get update in the install root"
rc=0
in_root "$LOGDIR/apt.log" "$APT update" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 15 "$LOGDIR/apt.log" >&2; bail "apt-get update in the install root failed; see $LOGDIR/apt.log"; }

say "installing linux-headers-$KVER, gcc, pkg-config and man-db in the root (log: $LOGDIR/kernel.log)"
# INITRD=No: the root never boots; the kernel's postinst hook skips
# update-initramfs (about half a minute on 2 cores). Debian 12's default
# kernel's headers too (linux-headers-cloud-amd64: 6.1), which a Debian 12
# machine has, and which DKMS must skip (the driver is for 6.12 and later).
timed "$ROOT" "$LOGDIR/kernel.log" "installing the kernel headers" \
	"apt-get installs Debian's linux-headers-$KVER and Debian 12's default linux-headers-cloud-amd64" \
	"INITRD=No $APT install linux-headers-$KVER linux-headers-cloud-amd64 gcc libc6-dev pkg-config man-db"
[ "$rc" -eq 0 ] || bail "no kernel headers in the root"
chroot "$ROOT" test -d "/lib/modules/$KVER/build/" || bail "linux-headers-$KVER installed no /lib/modules/$KVER/build"
OLDKVER=$(cd "$ROOT/lib/modules" && ls -d 6.1.* 2>/dev/null | head -n 1 || true)

say "apt-get install ./*.deb in the root (log: $LOGDIR/install.log)"
timed "$ROOT" "$LOGDIR/install.log" "installing the packages (DKMS's build included)" \
	"apt-get installs ${DEBS[*]%%_*}" "$APT install $(printf './packages/%s ' "${DEBS[@]}")"
[ "$rc" -eq 0 ] || bail "the packages did not install"

# check_module WHAT LOG [KVER]: DKMS's module for KVER (default: the
# stock one), installed and right.
check_module() {
	local what=$1 log=$2 KVER=${3:-$KVER} status ko name vermagic path rc
	status=$(chroot "$ROOT" dkms status -m hugepfn -v "$VERSION" -k "$KVER" 2>>"$log" || true)
	echo "dkms status: $status" >> "$log"
	rc=1
	case "$status" in "hugepfn/$VERSION, $KVER, "*": installed"*) rc=0 ;; esac
	tap "$rc" "$what: dkms status says hugepfn/$VERSION is installed for $KVER" "$log"
	ko=$(find "$ROOT/lib/modules/$KVER/updates/dkms" -maxdepth 1 -name 'hugepfn.ko*' 2>/dev/null | head -n 1) || true
	ko=${ko#"$ROOT"/}
	tap "$([ -n "$ko" ] && echo 0 || echo 1)" "$what: /lib/modules/$KVER/updates/dkms/${ko##*/} exists" "$log"
	name=$(chroot "$ROOT" modinfo -F name "/${ko:-none}" 2>>"$log" || true)
	vermagic=$(chroot "$ROOT" modinfo -F vermagic "/${ko:-none}" 2>>"$log" || true)
	path=$(chroot "$ROOT" modinfo -k "$KVER" -n hugepfn 2>>"$log" || true)
	printf 'modinfo: name %s, vermagic %s; modinfo -k %s -n hugepfn: %s\n' "$name" "$vermagic" "$KVER" "$path" >> "$log"
	rc=1
	[ "$name" = hugepfn ] && [ "${vermagic%% *}" = "$KVER" ] && [ -n "$ko" ] && [ "$path" = "/$ko" ] && rc=0
	tap "$rc" "$what: modinfo: name hugepfn, vermagic $KVER, and depmod's index finds it (modinfo -k KVER hugepfn)" "$log"
}
MODLOG=$LOGDIR/module.log
cp "$LOGDIR/install.log" "$MODLOG"
check_module "after the install" "$MODLOG"
# Debian 12's 6.1 kernel: the placeholder module, which refuses to load
# (the driver needs 6.12), and the install configured
status=$(chroot "$ROOT" dkms status -m hugepfn -k "${OLDKVER:-none}" 2>&1 || true)
desc=$(chroot "$ROOT" modinfo -k "${OLDKVER:-none}" -F description hugepfn 2>&1 || true)
printf 'dkms status for %s: %s\nits module: %s\n' "${OLDKVER:-no 6.1 kernel}" "$status" "$desc" >> "$MODLOG"
rc=1
if [ -n "$OLDKVER" ] && grep -q ': installed' <<<"$status" && grep -q 'placeholder.*before Linux 6.12' <<<"$desc"; then
	rc=0
fi
tap "$rc" "DKMS builds Debian 12's ${OLDKVER:-6.1} kernel the placeholder hugepfn.ko, which refuses to load, and the install succeeded" "$MODLOG"
# ... and an update of that kernel configures: the headers package's
# postinst runs DKMS's autoinstall, whose failure would leave the update
# unconfigured (and, the image's, without initrd or GRUB entry)
rc=0
in_root "$MODLOG" "INITRD=No $APT install --reinstall linux-headers-${OLDKVER:-none}" || rc=$?
tap "$rc" "an update of the ${OLDKVER:-6.1} headers (apt-get install --reinstall) configures, DKMS's hook included" "$MODLOG"
# DKMS's build log, kept: the module builds against the stock headers
# without a warning (as make -C kernel/driver does in tests/run.sh).
makelog=$ROOT/var/lib/dkms/hugepfn/$VERSION/$KVER/$(chroot "$ROOT" uname -m)/log/make.log
cp "$makelog" "$LOGDIR/dkms-make.log" 2>/dev/null || echo "no $makelog" > "$LOGDIR/dkms-make.log"
rc=1
if grep -q 'LD \[M\].*hugepfn\.ko' "$LOGDIR/dkms-make.log" && ! grep -q -i 'warning' "$LOGDIR/dkms-make.log"; then rc=0; fi
tap "$rc" "DKMS's build of hugepfn.ko against the $KVER headers prints no warning" "$LOGDIR/dkms-make.log"

# The tool and its manual pages.
TOOLLOG=$LOGDIR/tool.log
out=$(chroot "$ROOT" hugepfn --version 2>&1) || true
echo "hugepfn --version: $out" >> "$TOOLLOG"
tap "$([ "$out" = "hugepfn $VERSION (libhugepfn $VERSION)" ] && echo 0 || echo 1)" \
	"hugepfn --version prints 'hugepfn $VERSION (libhugepfn $VERSION)'" "$TOOLLOG"
rc=0
in_root "$TOOLLOG" "hugepfn --help | grep -q '^Usage: hugepfn'" || rc=$?
tap "$rc" "hugepfn --help" "$TOOLLOG"
rc=0
# shellcheck disable=SC2016  # expanded in the root
in_root "$TOOLLOG" 'for p in hugepfn hugepfn-map hugepfn-doctor; do man -w "$p" || exit 1; done; man -w 3 libhugepfn &&
	man -Tutf8 hugepfn 2>&1 >/dev/null | { ! grep .; }' || rc=$?
tap "$rc" "man -w finds hugepfn(1), hugepfn-map(1), hugepfn-doctor(1) and libhugepfn(3); man renders hugepfn(1) without a warning" "$TOOLLOG"
rc=0
# shellcheck disable=SC2016
in_root "$TOOLLOG" 'test -f /usr/share/bash-completion/completions/hugepfn &&
	f=$(dpkg -L hugepfn-tools | grep "/udev/rules.d/60-hugepfn.rules$") && test -f "$f" &&
	! grep -v -e "^#" -e "^[[:space:]]*$" "$f"' || rc=$?
tap "$rc" "hugepfn-tools installs the bash completion and the udev rule, comments only" "$TOOLLOG"

# The library: a program built through pkg-config, shared and static.
LIBLOG=$LOGDIR/library.log
cat > "$ROOT/root/version.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <hugepfn.h>

/* The library's version, and the file hugepfn_version() came from. */
int main(void)
{
	Dl_info info;

	if (!dladdr((void *)hugepfn_version, &info) || !info.dli_fname)
		return 1;
	printf("%s %s\n", hugepfn_version(), info.dli_fname);
	return 0;
}
EOF
rc=0
# shellcheck disable=SC2016
in_root "$LIBLOG" 'gcc -Wall -Wextra -Werror version.c -o version-shared $(pkg-config --cflags --libs libhugepfn)' || rc=$?
out=
[ "$rc" -ne 0 ] || out=$(chroot "$ROOT" /root/version-shared 2>&1) || true
echo "version-shared: $out" >> "$LIBLOG"
multiarch=$(chroot "$ROOT" dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
rc=1
case "$out" in "$VERSION "*"/$multiarch/libhugepfn.so.1") rc=0 ;; esac
tap "$rc" \
	"a program built with pkg-config --cflags --libs libhugepfn prints hugepfn_version() $VERSION from libhugepfn.so.1" "$LIBLOG"
# libpci comes shared only (Debian has no libpci.a): the static link takes
# libhugepfn.a and the system's shared libraries (as tests/install does).
rc=0
# shellcheck disable=SC2016
in_root "$LIBLOG" 'gcc -Wall -Wextra -Werror version.c -o version-static $(pkg-config --static --cflags --libs libhugepfn |
	sed "s/-lhugepfn/-Wl,-Bstatic -lhugepfn -Wl,-Bdynamic/")' || rc=$?
out=
[ "$rc" -ne 0 ] || out=$(chroot "$ROOT" /root/version-static 2>&1) || true
echo "version-static: $out" >> "$LIBLOG"
tap "$([ "$out" = "$VERSION /root/version-static" ] && echo 0 || echo 1)" \
	"... and with pkg-config --static, linked with libhugepfn.a, it prints $VERSION without libhugepfn.so" "$LIBLOG"

# What a kernel update runs: the headers package's postinst calls the
# /etc/kernel/header_postinst.d hooks, among them DKMS's autoinstall,
# which builds every AUTOINSTALL module the kernel lacks. The module is
# taken from this kernel first (dkms unbuild: uninstalled and its build
# removed, the source kept registered, as for a kernel not seen before).
REBUILDLOG=$LOGDIR/rebuild.log
rc=0
in_root "$REBUILDLOG" "dkms unbuild -m hugepfn -v $VERSION -k $KVER && ! ls /lib/modules/$KVER/updates/dkms/hugepfn.ko* 2>/dev/null &&
	! dkms status -m hugepfn -v $VERSION | grep -F '$KVER' && test -d /var/lib/dkms/hugepfn/$VERSION/source" || rc=$?
tap "$rc" "dkms unbuild takes the module away from $KVER (hugepfn/$VERSION stays added)" "$REBUILDLOG"
timed "$ROOT" "$REBUILDLOG" "reinstalling the headers (DKMS's build included)" \
	"apt-get install --reinstall linux-headers-$KVER (the kernel hooks run)" "$APT install --reinstall linux-headers-$KVER"
check_module "after the headers' hooks" "$REBUILDLOG"

# The patched kernel, as on a real machine: its packages installed (the
# image's and the headers' hooks run DKMS's autoinstall), the module built
# for it.
if [ -n "$PATCHED_KVER" ]; then
	PATCHEDLOG=$LOGDIR/patched-kernel.log
	cp "${PATCHED_DEBS[@]}" "$ROOT/root/packages/"
	timed "$ROOT" "$PATCHEDLOG" "installing the patched kernel (DKMS's build included)" \
		"apt-get installs the patched kernel's ${PATCHED_DEBS[*]##*/}" \
		"INITRD=No $APT install $(printf './packages/%s ' "${PATCHED_DEBS[@]##*/}")"
	rc=0
	chroot "$ROOT" test -f "/boot/vmlinuz-$PATCHED_KVER" -a -d "/lib/modules/$PATCHED_KVER/build/" || rc=$?
	tap "$rc" "/boot/vmlinuz-$PATCHED_KVER and /lib/modules/$PATCHED_KVER/build are there" "$PATCHEDLOG"
	check_module "the patched kernel" "$PATCHEDLOG" "$PATCHED_KVER"
fi

# Purge: the module goes with the package.
PURGELOG=$LOGDIR/purge.log
# a binding recorded, as 'hugepfn bind --persist' writes it: the purge takes it
mkdir -p "$ROOT/etc/hugepfn/bind.d"
echo hugepfn > "$ROOT/etc/hugepfn/bind.d/pci-0000:00:1f.0"
rc=0
in_root "$PURGELOG" "$APT purge ${DEBS[*]%%_*}" || rc=$?
tap "$rc" "apt-get purge ${DEBS[*]%%_*}" "$PURGELOG"
left=
gone=("lib/modules/$KVER/updates/dkms/hugepfn.ko"{,.xz,.zst,.gz})
[ -z "$OLDKVER" ] || gone+=("lib/modules/$OLDKVER/updates/dkms/hugepfn.ko"{,.xz,.zst,.gz})
[ -z "$PATCHED_KVER" ] || gone+=("lib/modules/$PATCHED_KVER/updates/dkms/hugepfn.ko"{,.xz,.zst,.gz})
for f in "${gone[@]}" "usr/src/hugepfn-$VERSION" var/lib/dkms/hugepfn \
	usr/bin/hugepfn "usr/lib/$multiarch/libhugepfn.so.1" usr/include/hugepfn.h etc/hugepfn; do
	if [ -e "$ROOT/$f" ]; then left+="/$f "; fi
done
status=$(chroot "$ROOT" dkms status 2>>"$PURGELOG" || true)
printf 'left after the purge: %s\ndkms status: %s\n' "$left" "$status" >> "$PURGELOG"
tap "$([ -z "$left" ] && [ -z "$status" ] && echo 0 || echo 1)" \
	"the purge removed the module, the DKMS tree and source, the tool, the library and the recorded bindings (dkms status empty)" "$PURGELOG"

echo "1..$N"
say "$((N - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

# shellcheck shell=bash
# Shared helpers for the hugepfn build and VM scripts. Source it; do not run it.
#
# Everything that is expensive to produce (the unpacked kernel tree, built
# kernels, the stock Debian kernel, ccache) lives in one cache directory
# outside the repository, keyed by the hash of its inputs, so unchanged inputs
# are never rebuilt.

HUGEPFN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HUGEPFN_CACHE=${HUGEPFN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hugepfn}
HUGEPFN_BUILD=${HUGEPFN_BUILD:-$HUGEPFN_ROOT/build}
JOBS=${JOBS:-$(nproc)}

# The Linux versions the test bed builds and boots, each with its own
# series in kernel/patches/VERSION/: 6.12 (the default, the LTS backport)
# and 7.3 (the upstream base, issue #18). Every script that builds or
# boots a kernel takes --linux VERSION and calls linux_select with it.
HUGEPFN_LINUX_VERSIONS=(6.12 7.3)

# linux_select VERSION: set what differs between the versions:
#   LINUX_VERSION         6.12 or 7.3
#   SERIES_DIR            the series: kernel/patches/VERSION (series, FEATURES)
#   KERNEL_SOURCE_PKG     Debian's source package, and KERNEL_SOURCE_DEBVER
#                         its version: pinned, as the stock kernel is, so
#                         that a new Debian release (the suites keep the
#                         older ones) cannot break a series that has not
#                         been rebased yet. Moving to a new version is a
#                         commit.
#   KERNEL_APT            where apt finds that version's packages: 'host'
#                         (the machine's own sources: Debian 12's
#                         bookworm-security) or 'trixie' (trixie and
#                         trixie-backports, which Debian 12 does not list:
#                         a private apt configuration in the cache,
#                         kernel_apt_get)
#   STOCK_KVER, STOCK_DEBVER  Debian's stock cloud kernel of that version
#   STOCK_LAYOUT          how Debian packages it: 'image' (6.12:
#                         linux-image-KVER-unsigned, /boot) or 'binary' (7.3:
#                         linux-binary-unsigned-KVER, config in linux-base-KVER
#                         and modules in linux-modules-KVER, under
#                         /usr/lib/modules/KVER)
#   LINUX_CACHE_TAG       in the names of the version's cache directories:
#                         empty for 6.12, whose paths are those from before
#                         7.3 (linux, obj, obj-ARCH, linux-base, obj-base),
#                         '-7.3' for 7.3 (obj-7.3, obj-7.3-ARCH, ...)
#   LINUX_SRC             the unpacked source, a git tree (branch 'base',
#                         branch 'hugepfn' = base + the series): linux for
#                         6.12, linux-src-7.3 for 7.3 ($HUGEPFN_CACHE/linux-7.3
#                         is a developer's tree, never used here)
#   LINUX_ARM64_APPEND    kernel command line the arm64 VM adds: 7.3 has no
#                         RODATA_FULL_DEFAULT_ENABLED (6.12's test config has
#                         it off) and maps the linear map with pages unless
#                         told rodata=noalias: the blocks t_kernel_map reads
# shellcheck disable=SC2034 # set here, read by the scripts that source this
linux_select() {
	case "$1" in
		6.12)
			KERNEL_SOURCE_PKG=linux-source-6.12
			KERNEL_SOURCE_DEBVER=6.12.118-1~deb12u1
			KERNEL_APT=host
			STOCK_KVER=6.12.118+deb12-cloud-amd64
			STOCK_LAYOUT=image
			LINUX_CACHE_TAG=
			LINUX_SRC=$HUGEPFN_CACHE/linux
			LINUX_ARM64_APPEND=
			;;
		7.3)
			KERNEL_SOURCE_PKG=linux-source-7.3
			KERNEL_SOURCE_DEBVER=7.3.4-1~bpo13+1
			KERNEL_APT=trixie
			STOCK_KVER=7.3.4+deb13-cloud-amd64
			STOCK_LAYOUT=binary
			LINUX_CACHE_TAG=-7.3
			LINUX_SRC=$HUGEPFN_CACHE/linux-src-7.3
			LINUX_ARM64_APPEND=rodata=noalias
			;;
		*)
			die "unknown Linux version '$1'; use one of: ${HUGEPFN_LINUX_VERSIONS[*]}"
			;;
	esac
	LINUX_VERSION=$1
	SERIES_DIR=$HUGEPFN_ROOT/kernel/patches/$1
	STOCK_DEBVER=$KERNEL_SOURCE_DEBVER
}
linux_select 6.12

export CCACHE_DIR=${CCACHE_DIR:-$HUGEPFN_CACHE/ccache}
# The kernel tree is a scratch git repository: no automatic gc, which would
# repack its ~80k files in the background after the first commit, and hold
# kernel/build.sh's lock (an inherited descriptor) for minutes meanwhile.
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# Progress messages go to stderr with a timestamp relative to the script
# start, so a long build or boot visibly moves.
HUGEPFN_T0=${HUGEPFN_T0:-$(date +%s)}
export HUGEPFN_T0
say() {
	local now
	now=$(date +%s)
	printf '[%4ss] %s\n' "$((now - HUGEPFN_T0))" "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# apt_update_once: refresh apt's package lists, once per script run.
apt_update_once() {
	[ -z "${HUGEPFN_APT_UPDATED:-}" ] || return 0
	apt-get update -qq >&2 || die "apt-get update failed; check the network or the apt sources"
	HUGEPFN_APT_UPDATED=1
}

# need_packages PKG...: install the named Debian packages that are missing.
need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}"
	say "installing Debian packages: ${missing[*]}"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# The throwaway Debian roots of tests/fresh-machine.sh and tests/packages.sh.
# copy_checkout DEST NAME: this checkout's tracked and untracked-but-not-
# ignored files, as they are in the working tree (a tracked file deleted
# there is not copied), into DEST, made one commit of a new repository by
# NAME (what a clone has; it shows what a build leaves behind).
copy_checkout() {
	local dest=$1 name=$2
	mkdir -p "$dest"
	(
		cd "$HUGEPFN_ROOT"
		git -c safe.directory="$HUGEPFN_ROOT" ls-files -co --exclude-standard -z |
			while IFS= read -r -d '' f; do
				if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
			done | tar --null -T - -cf -
	) | tar -x --no-same-owner -C "$dest" -f - || return 1
	(
		export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
		git -C "$dest" init -q -b main && git -C "$dest" add -A . &&
			git -C "$dest" -c user.name="$name" -c user.email=hugepfn@hugepfn.invalid \
				commit -q --no-verify -m "copy of $HUGEPFN_ROOT"
	)
}

# root_mounts DIR: the mount points strictly below DIR, deepest first.
root_mounts() {
	awk -v r="$1/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# root_kill ROOT...: end what still runs with one of ROOT as its root
# directory (all started by the calling script).
root_kill() {
	local p r pids=() try want
	for try in 1 2 3; do
		pids=()
		for p in /proc/[0-9]*; do
			r=$(readlink "$p/root" 2>/dev/null) || continue
			for want in "$@"; do
				[ "$r" = "$want" ] && pids+=("${p#/proc/}")
			done
		done
		[ ${#pids[@]} -eq 0 ] && return 0
		say "ending ${#pids[@]} process(es) still running in $*: ${pids[*]}"
		if [ "$try" -lt 3 ]; then kill -TERM "${pids[@]}" 2>/dev/null || true; sleep 3
		else kill -KILL "${pids[@]}" 2>/dev/null || true; sleep 1; fi
	done
}

# root_unmount DIR: unmount everything below DIR (lazily where busy).
root_unmount() {
	local m
	for m in $(root_mounts "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
			printf 'warning: could not unmount %s\n' "$m" >&2
	done
}

# root_remove DIR: unmount and delete DIR; refuses while something stays
# mounted below it, which rm would otherwise reach.
root_remove() {
	[ -d "$1" ] || return 0
	root_unmount "$1"
	if [ -n "$(root_mounts "$1")" ]; then
		printf 'error: still mounted under %s: %s; not deleting it. Unmount them (umount -R) and remove it by hand\n' \
			"$1" "$(root_mounts "$1" | tr '\n' ' ')" >&2
		return 1
	fi
	rm -rf --one-file-system -- "$1"
}

# host_apt_uris: "URI SUITE" for each enabled deb source of the host.
host_apt_uris() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() { if (deb && en) for (i in u) for (j in s) print u[i], s[j]
				deb = 0; en = 1; delete u; delete s }
			BEGIN { en = 1 }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "enabled:" { en = (tolower($2) != "no") }
			tolower($1) == "uris:" { for (i = 2; i <= NF; i++) u[i] = $i }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) s[i] = $i }
			END { flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [options] URI SUITE COMPONENT...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
	done
}

# debian_mirrors: set MIRROR (when empty) and SECURITY for a Debian 12 root
# made with debootstrap: the host's source for bookworm (or, on another
# release, its main Debian archive), else deb.debian.org; the same for the
# security suite. A MIRROR given (--mirror) gets its -security sibling.
debian_mirrors() {
	if [ -z "$MIRROR" ]; then
		MIRROR=$(host_apt_uris | awk '$2 == "bookworm" { print $1; exit }')
		[ -n "$MIRROR" ] || MIRROR=$(host_apt_uris | awk '$2 !~ /-/ && $1 !~ /security/ && $1 ~ /debian\/?$/ { print $1; exit }')
		[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
		SECURITY=$(host_apt_uris | awk '$2 == "bookworm-security" { print $1; exit }')
		[ -n "$SECURITY" ] || SECURITY=$(host_apt_uris | awk '$2 ~ /-security$/ { print $1; exit }')
		[ -n "$SECURITY" ] || SECURITY=http://deb.debian.org/debian-security
	else
		SECURITY=${MIRROR%/}-security
		case "$MIRROR" in */debian|*/debian/) ;; *) SECURITY=http://deb.debian.org/debian-security ;; esac
	fi
	MIRROR=${MIRROR%/} SECURITY=${SECURITY%/}
}

# Every package the build, the VM and the tests use, in one list.
# Installed with --no-install-recommends, so nothing arrives by
# recommendation: rsync (make headers_install), dwarves (pahole: modules
# built against Debian's BTF-enabled stock headers), the arm64 C library
# (the cross-built guest programs) and openssl (the key the test kernels'
# module signing, selected by their lockdown LSM, is made with) are named
# here; abigail-tools (abidw, abidiff: the ABI test) and valgrind (the
# tool under valgrind) too; scdoc (the man pages), groff-base (the install
# test renders them) and bash-completion (its .pc names the directory the
# completion is installed to). tests/fresh-machine.sh proves the list on a
# fresh Debian 12 root.
# What building a kernel and its Debian packages needs (kernel/package.sh),
# and what the whole test bed needs.
HUGEPFN_KERNEL_PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	ccache git python3 rsync dwarves debhelper openssl zstd lz4 libdw-dev
)
HUGEPFN_PACKAGES=(
	"${HUGEPFN_KERNEL_PACKAGES[@]}" pkg-config meson ninja-build sparse
	qemu-system-x86 busybox-static libpci-dev libjson-c-dev libdpdk-dev
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-powerpc64le-linux-gnu
	gcc-riscv64-linux-gnu qemu-system-arm abigail-tools valgrind
	scdoc groff-base bash-completion
)

need_all_packages() {
	need_packages "${HUGEPFN_PACKAGES[@]}"
}

# kernel_apt_get ARGS...: apt-get with the apt sources that have this Linux
# version's packages (KERNEL_APT); only ever used to download packages,
# which are unpacked into the cache and never installed. 'trixie': a private
# configuration under $HUGEPFN_CACHE/apt-trixie (its own sources.list, lists
# and caches; the host's sources, pins and package cache are left alone),
# since Debian 12's sources have no 7.3 (Debian 12's debian-archive-keyring
# has trixie's keys). kernel_apt_update refreshes the package lists, once
# per script run: call it outside the subshells that download.
kernel_apt_opts() {
	local dir=$HUGEPFN_CACHE/apt-$KERNEL_APT
	KERNEL_APT_OPTS=(
		-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/sources.list.d"
		-o "Dir::Etc::Preferences=$dir/preferences" -o "Dir::Etc::PreferencesParts=$dir/preferences.d"
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "APT::Architectures::=$(dpkg --print-architecture)"
	)
	# Downloads into directories only root may write: apt's _apt sandbox
	# user could not, and would say so.
	[ "$(id -u)" -ne 0 ] || KERNEL_APT_OPTS+=(-o APT::Sandbox::User=root)
}

kernel_apt_update() {
	local dir=$HUGEPFN_CACHE/apt-$KERNEL_APT var=HUGEPFN_APT_UPDATED_$KERNEL_APT
	if [ "$KERNEL_APT" = host ]; then
		apt_update_once
		return
	fi
	[ -z "${!var:-}" ] || return 0
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	case "$KERNEL_APT" in
		trixie)
			printf 'deb http://deb.debian.org/debian %s main\n' trixie-backports trixie \
				> "$dir/sources.list" ;;
		*) die "no apt sources known for '$KERNEL_APT'" ;;
	esac
	say "refreshing the package lists of $KERNEL_APT ($dir)"
	kernel_apt_opts
	apt-get "${KERNEL_APT_OPTS[@]}" update -qq >&2 ||
		die "apt-get update of $dir/sources.list failed; check the network"
	printf -v "$var" 1
}

kernel_apt_get() {
	kernel_apt_update
	if [ "$KERNEL_APT" = host ]; then
		apt-get "$@"
	else
		kernel_apt_opts
		apt-get "${KERNEL_APT_OPTS[@]}" "$@"
	fi
}

# kernel_source_tarball: the path of $KERNEL_SOURCE_PKG's tarball at exactly
# $KERNEL_SOURCE_DEBVER, downloaded once into the cache and never installed
# (an installed linux-source-X would follow Debian's newest version).
kernel_source_tarball() {
	local dir=$HUGEPFN_CACHE/source/$KERNEL_SOURCE_DEBVER pkg=$KERNEL_SOURCE_PKG
	local tarball=$dir/$pkg.tar.xz deb where
	if [ ! -f "$tarball" ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		say "downloading $pkg $KERNEL_SOURCE_DEBVER (~150 MB, one time)"
		kernel_apt_update
		case "$KERNEL_APT" in
			host) where="is bookworm-security in the apt sources? ('apt-cache policy $pkg' lists the versions there; the series is tested against this one)" ;;
			*) where="is deb.debian.org reachable? (the private apt sources $HUGEPFN_CACHE/apt-$KERNEL_APT/sources.list)" ;;
		esac
		(cd "$dir.tmp" && kernel_apt_get download -qq "$pkg=$KERNEL_SOURCE_DEBVER" >/dev/null 2>&1) ||
			die "could not download $pkg=$KERNEL_SOURCE_DEBVER; $where"
		deb=$(echo "$dir.tmp"/"$pkg"_*.deb)
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$dir.tmp" --strip-components=3 "./usr/src/$pkg.tar.xz" ||
			die "unpacking $deb failed"
		mkdir -p "$dir"
		mv "$dir.tmp/$pkg.tar.xz" "$tarball"
		rm -rf "$dir.tmp"
	fi
	echo "$tarball"
}

# foreign_busybox ARCH: the path of a static busybox for another Debian
# architecture (busybox-static:ARCH), unpacked into the cache: the arm64
# guest's shell. Adds ARCH to dpkg's foreign architectures the first time,
# which apt needs to fetch the package; nothing of it is installed.
foreign_busybox() {
	local arch=$1 dir=$HUGEPFN_CACHE/busybox-$1 deb
	if [ ! -x "$dir/bin/busybox" ]; then
		if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
			[ "$(id -u)" -eq 0 ] || die "the $arch guest needs busybox-static:$arch; run: sudo dpkg --add-architecture $arch && sudo apt-get update"
			say "adding $arch as a foreign dpkg architecture (for busybox-static:$arch)"
			dpkg --add-architecture "$arch"
			apt-get update -qq >&2 || die "apt-get update failed; check the network or the apt sources"
		fi
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		(cd "$dir.tmp" && apt-get download -qq "busybox-static:$arch" >&2) ||
			die "apt-get download busybox-static:$arch failed"
		deb=$(ls "$dir.tmp"/busybox-static_*.deb)
		dpkg-deb -x "$deb" "$dir.tmp/root" || die "unpacking $deb failed"
		mkdir -p "$dir/bin"
		cp "$dir.tmp/root/bin/busybox" "$dir/bin/busybox"
		rm -rf "$dir.tmp"
	fi
	echo "$dir/bin/busybox"
}

# meson_setup_build: configure the Meson build directory for the tests:
# the DPDK example required (the VM runs it), and built against the kernel
# uAPI headers in $HUGEPFN_KERNEL_UAPI when set (kernel/build.sh --uapi), so
# that the VFIO cdev backend is built. Reconfigures when those change.
meson_setup_build() {
	# man=enabled: the install test checks the man pages, never skips them
	local opts=(-Ddpdk=enabled -Dman=enabled -Dkernel_uapi="${HUGEPFN_KERNEL_UAPI:-}")
	local stamp=$HUGEPFN_BUILD/.hugepfn-meson-options
	if [ ! -f "$HUGEPFN_BUILD/build.ninja" ]; then
		meson setup "$HUGEPFN_BUILD" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	elif [ "$(cat "$stamp" 2>/dev/null)" != "${opts[*]}" ]; then
		meson setup --reconfigure "$HUGEPFN_BUILD" "$HUGEPFN_ROOT" "${opts[@]}" >/dev/null || return 1
	fi
	echo "${opts[*]}" > "$stamp"
}

# hash_inputs FILE...: one sha256 over file names and contents.
hash_inputs() {
	local f
	for f in "$@"; do
		printf '%s\n' "${f#"$HUGEPFN_ROOT"/}"
		cat "$f"
	done | sha256sum | cut -c1-16
}

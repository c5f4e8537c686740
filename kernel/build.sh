#!/usr/bin/env bash
# Build the hugepfn test kernel: Debian's linux-source-VERSION plus
# kernel/patches/VERSION/series (VERSION 6.12, the default, or 7.3: --linux),
# configured from kernel/config/*.config and kernel/config/ARCH/*.config
# merged over tinyconfig, natively for x86_64 or with Debian's cross
# compilers for arm64, ppc64le and riscv64. Built kernels are cached by a
# hash of (source version, architecture, patches, config fragments, this
# script), so unchanged inputs are never rebuilt.
#
# Usage: kernel/build.sh [--linux VERSION] [--arch ARCH] [--variant NAME] [--tree|--prefixes|--uapi|--base] [--print-dir] [--help]
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: kernel/build.sh [--linux VERSION] [--arch ARCH] [OPTION]

Builds (or finds in the cache) the patched test kernel and prints the
directory holding its image (bzImage, Image or vmlinux), .config and the
build tree for out-of-tree modules.

  --linux VERSION
               6.12 (the default: Debian's linux-source-6.12 and
               kernel/patches/6.12/) or 7.3 (linux-source-7.3 from Debian
               trixie-backports and kernel/patches/7.3/); every mode below
               works on either, each version in cache directories of its
               own (kernel/README.md)
  --arch ARCH  x86_64 (the default), arm64, ppc64le, riscv64 or i386; the
               others are cross-built with Debian's gcc-<triplet> packages
               (i386 with the native gcc, -m32), i386 for --prefixes only
  --variant NAME
               with --prefixes: add kernel/config/variants/NAME.config last
               (thp-off, preempt-rt, i386: the configs the series must build
               in besides the test config) and compile-check every prefix in
               its own build tree; see kernel/README.md, "Config matrix"

  --tree       only prepare the git tree (base + series applied) and print its
               path; edit it, then regenerate the series (see kernel/README.md)
  --prefixes   compile every prefix of the series (0..N patches) with the
               test config, to prove each patch builds on its own: mm/,
               arch/ARCH/mm/ and the other C files the series touches
               (kernel/README.md says why not a full build)
  --full       with --prefixes on x86_64: a full build (bzImage and
               modules) of every patched prefix instead, the bisection
               check kernel maintainers' build bots make (~15 min cold)
  --base       build the Debian source without the series (x86_64 only),
               with exactly the same config fragments, in its own git
               worktree (branch 'base') and build tree, cached like the
               patched kernel; prints its directory (bzImage, release, obj/,
               src/): the reference kernel of the upstream mm selftests
  --uapi       install the source's uAPI headers (make headers_install) into
               the cache and print the directory, for -Dkernel_uapi= (Debian
               12's own headers are 6.1: no VFIO device cdev)
  --print-dir  print the kernel directory without progress output
  -h, --help   this text

Environment: HUGEPFN_CACHE (default ~/.cache/hugepfn), JOBS (default nproc).
USAGE
}

mode=build
quiet=
arch=x86_64
variant=
full_prefixes=
linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		--tree) mode=tree ;;
		--prefixes) mode=prefixes ;;
		--full) full_prefixes=1 ;;
		--uapi) mode=uapi ;;
		--base) mode=base ;;
		--print-dir) quiet=1 ;;
		--linux)
			[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
			linux=$2
			shift
			;;
		--linux=*) linux=${1#--linux=} ;;
		--arch)
			[ $# -ge 2 ] || die "--arch needs an architecture: x86_64, arm64, ppc64le or riscv64"
			arch=$2
			shift
			;;
		--arch=*) arch=${1#--arch=} ;;
		--variant)
			[ $# -ge 2 ] || die "--variant needs a name from kernel/config/variants/"
			variant=$2
			shift
			;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done
linux_select "$linux"

# KARCH: the kernel's ARCH (empty natively, so that the x86 build tree is
# the one earlier versions made), CROSS: CROSS_COMPILE, IMAGE: what boots.
case "$arch" in
	x86_64) KARCH= CROSS= IMAGE=arch/x86/boot/bzImage ;;
	arm64) KARCH=arm64 CROSS=aarch64-linux-gnu- IMAGE=arch/arm64/boot/Image ;;
	ppc64le) KARCH=powerpc CROSS=powerpc64le-linux-gnu- IMAGE=vmlinux ;;
	riscv64) KARCH=riscv CROSS=riscv64-linux-gnu- IMAGE=arch/riscv/boot/Image ;;
	i386) KARCH=i386 CROSS= IMAGE=arch/x86/boot/bzImage ;;
	*) die "unknown architecture '$arch'; use x86_64, arm64, ppc64le, riscv64 or i386" ;;
esac
# The arch/ directory whose files this build compiles.
case "$KARCH" in
	''|i386) ARCHDIR=arch/x86 ;;
	*) ARCHDIR=arch/$KARCH ;;
esac
if [ -n "$full_prefixes" ] && { [ "$mode" != prefixes ] || [ "$arch" != x86_64 ] || [ -n "$variant" ]; }; then
	die "--full is for --prefixes of the x86_64 test config only"
fi
if [ -n "$variant" ] && [ "$mode" != prefixes ]; then
	die "--variant is for --prefixes only: the VM boots the test config"
fi
if [ "$arch" = i386 ] && { [ "$mode" != prefixes ] || [ "$variant" != i386 ]; }; then
	die "i386 is compile-checked only: kernel/build.sh --arch i386 --variant i386 --prefixes"
fi

# The tree alone (kernel/package.sh on a user's machine) needs only what
# a kernel build needs, not the test bed's qemu and cross compilers.
if [ "$mode" = tree ]; then
	need_packages "${HUGEPFN_KERNEL_PACKAGES[@]}"
else
	need_all_packages
fi

src_version=$KERNEL_SOURCE_DEBVER
UAPI_DIR=$HUGEPFN_CACHE/uapi/$src_version
# Installed headers need no tree: answer without waiting for a build.
if [ "$mode" = uapi ] && [ -f "$UAPI_DIR/include/linux/vfio.h" ]; then
	echo "$UAPI_DIR"
	exit 0
fi

# One build.sh at a time: they share the source tree and the build tree.
# HUGEPFN_KERNEL_LOCK_FD: a descriptor of the lock file that the caller
# (kernel/package.sh) holds the lock on, for as long as it builds from the
# tree this prepares; inherited, it is ours as well.
mkdir -p "$HUGEPFN_CACHE"
exec {lock_fd}>"$HUGEPFN_CACHE/build.lock"
held=${HUGEPFN_KERNEL_LOCK_FD:-}
if [[ "$held" =~ ^[0-9]+$ ]] && [ "$(readlink "/proc/$$/fd/$held")" = "$(readlink -f "$HUGEPFN_CACHE/build.lock")" ] &&
	flock -n "$held"; then
	: # the caller's lock
elif ! flock -n "$lock_fd"; then
	say "waiting for another kernel/build.sh to finish"
	flock "$lock_fd"
fi

SRC=$LINUX_SRC
PATCHDIR=$SERIES_DIR
SERIES_NAME=kernel/patches/$LINUX_VERSION/series
# The fragments shared by every architecture and version, then the Linux
# version's own (options whose name differs between versions), then the
# architecture's (i386's are x86_64's, made 32-bit by its variant), then
# the variant's.
CONFIGS=("$HUGEPFN_ROOT"/kernel/config/*.config "$HUGEPFN_ROOT/kernel/config/$LINUX_VERSION"/*.config
	"$HUGEPFN_ROOT/kernel/config/${arch/i386/x86_64}"/*.config)
[ -f "${CONFIGS[-1]}" ] || die "no kernel/config/$arch/*.config for architecture $arch"
[ -f "$HUGEPFN_ROOT/kernel/config/$LINUX_VERSION/00-version.config" ] ||
	die "no kernel/config/$LINUX_VERSION/00-version.config"
if [ -n "$variant" ]; then
	[ -f "$HUGEPFN_ROOT/kernel/config/variants/$variant.config" ] ||
		die "no kernel/config/variants/$variant.config (try: $(cd "$HUGEPFN_ROOT/kernel/config/variants" && ls | sed 's/\.config$//' | tr '\n' ' '))"
	CONFIGS+=("$HUGEPFN_ROOT/kernel/config/variants/$variant.config")
fi
# The build tree: 'obj' for x86_64 (its name before other architectures),
# 'obj-ARCH[-VARIANT]' for the others; 7.3's are 'obj-7.3[-ARCH[-VARIANT]]'.
obj_dir() {
	if [ "$arch" = x86_64 ] && [ -z "$variant" ]; then
		echo "$HUGEPFN_CACHE/obj$LINUX_CACHE_TAG"
	else
		echo "$HUGEPFN_CACHE/obj$LINUX_CACHE_TAG-$arch${variant:+-$variant}"
	fi
}

# kmake ARGS...: make in the kernel tree for this architecture. RUSTC=false:
# Kconfig records the host's rustc version (RUSTC_VERSION), which the cache
# key does not cover; without it every machine configures the same kernel
# (no test config enables Rust).
kmake() {
	make -C "$SRC" ${KARCH:+ARCH=$KARCH} ${CROSS:+CROSS_COMPILE=$CROSS} RUSTC=false "$@"
}

series_patches() {
	local p
	[ -f "$PATCHDIR/series" ] || return 0
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		[ -f "$PATCHDIR/$p" ] || die "$SERIES_NAME names '$p', which does not exist"
		printf '%s\n' "$PATCHDIR/$p"
	done < "$PATCHDIR/series"
}

# unpack_source: a git tree of the pristine Debian source, branch 'base'.
unpack_source() {
	if [ -f "$SRC/.hugepfn-base-$src_version" ]; then
		return 0
	fi
	local tarball
	tarball=$(kernel_source_tarball)
	say "unpacking $tarball ($src_version) into $SRC (one time, ~2 min)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$tarball" -C "$SRC" --strip-components=1
	(
		cd "$SRC"
		git init -q -b base
		git config user.name "hugepfn developers"
		git config user.email "hugepfn@invalid"
		git config core.autocrlf false
		# Debian's tarball ignores every top-level entry ('/*' for its
		# packaging repository), which would hide new files from git.
		git add -A -f . >/dev/null
		git commit -q -m "Debian $KERNEL_SOURCE_PKG $src_version"
		sed -i '/^# Debian packaging/,$d' .gitignore
		git commit -q -a -m "Drop the Debian packaging ignore rules"
	)
	touch "$SRC/.hugepfn-base-$src_version"
	printf '.hugepfn-*\n' >> "$SRC/.git/info/exclude"
}

# A patch without its "From <sha>" line, "[PATCH n/m]" numbering and the
# blob ids of its "index" lines (their length is the writer's core.abbrev:
# the 7.3 series' are 9 digits, the tree's format-patch writes 7).
normalize_patch() {
	python3 -c '
import email, re, sys
m = email.message_from_string(sys.stdin.read())
subject = re.sub(r"^\[PATCH[^]]*\] ", "", " ".join(m["Subject"].split()))
body = re.sub(r"(?m)^index [0-9a-f]+\.\.[0-9a-f]+", "index", m.get_payload())
print(m["From"], m["Date"], subject, body, sep="\n")'
}

# apply_series N: check out branch 'hugepfn' = base + the first N patches
# (all when N is empty). Skips the work when the tree already holds them.
apply_series() {
	local n=${1:-} patches stamp
	mapfile -t patches < <(series_patches)
	[ -n "$n" ] || n=${#patches[@]}
	patches=("${patches[@]:0:$n}")
	stamp=$( (echo "$n"; [ "$n" -eq 0 ] || cat "${patches[@]}") | sha256sum | cut -c1-16)
	if [ -f "$SRC/.hugepfn-applied" ] && [ "$(cat "$SRC/.hugepfn-applied")" = "$stamp" ] &&
		[ -z "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
		return 0
	fi
	# Keep the commits that already match the first patches of the series
	# and apply only the rest: resetting to base and re-applying everything
	# would rewrite (and so rebuild) every file the series touches.
	local commits=() keep=0 i tip=base
	git -C "$SRC" am --abort >/dev/null 2>&1 || true
	if [ "$(git -C "$SRC" rev-parse --abbrev-ref HEAD)" = hugepfn ] &&
		git -C "$SRC" merge-base --is-ancestor base HEAD; then
		mapfile -t commits < <(git -C "$SRC" rev-list --reverse base..HEAD)
	fi
	for ((i = 0; i < ${#commits[@]} && i < n; i++)); do
		cmp -s <(git -C "$SRC" format-patch -1 --stdout "${commits[$i]}" | normalize_patch) \
			<(normalize_patch < "${patches[$i]}") || break
		keep=$((i + 1))
		tip=${commits[$i]}
	done
	if [ "$n" -gt "$keep" ]; then
		say "applying patches $((keep + 1))..$n of $SERIES_NAME ($keep already applied)"
	elif [ "$n" -gt 0 ]; then
		say "the tree holds all $n patches of $SERIES_NAME already"
	fi
	rm -f "$SRC/.hugepfn-applied"
	git -C "$SRC" checkout -q -f -B hugepfn "$tip"
	if [ "$n" -gt "$keep" ]; then
		git -C "$SRC" am -q --keep-cr "${patches[@]:$keep}" ||
			die "a patch of $SERIES_NAME does not apply to $KERNEL_SOURCE_PKG $src_version (see 'git -C $SRC am --show-current-patch')"
	fi
	echo "$stamp" > "$SRC/.hugepfn-applied"
}

# configure OBJ: tinyconfig + fragments, then check every requested option
# really ended up in .config (Kconfig silently drops unmet dependencies). A
# later fragment overrides an earlier one, as in merge_config.sh, so an
# architecture's fragment may turn off what its kernel cannot have.
configure() {
	local obj=$1 frag line sym got bad=0
	local -A want=() from=()
	kmake -s O="$obj" tinyconfig >/dev/null
	(cd "$SRC" && env ${KARCH:+ARCH=$KARCH} scripts/kconfig/merge_config.sh -m -O "$obj" \
		"$obj/.config" "${CONFIGS[@]}" >/dev/null)
	kmake -s O="$obj" olddefconfig >/dev/null
	for frag in "${CONFIGS[@]}"; do
		# A variant turns off what the test fragments need (THP, 64BIT) and
		# with it what depends on that: only its own wishes must hold.
		[ -z "$variant" ] || [ "$frag" = "${CONFIGS[-1]}" ] || continue
		while read -r line; do
			case "$line" in
				CONFIG_*=*) sym=${line%%=*} ;;
				"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *} ;;
				*) continue ;;
			esac
			want[$sym]=$line
			from[$sym]=${frag#"$HUGEPFN_ROOT/kernel/config/"}
		done < "$frag"
	done
	for sym in "${!want[@]}"; do
		got=$(grep -E "^(# )?$sym[= ]" "$obj/.config" || echo "# $sym is not set")
		if [ "$got" != "${want[$sym]}" ]; then
			echo "config ($arch): ${from[$sym]} wants '${want[$sym]}', .config has '$got'" >&2
			bad=1
		fi
	done
	[ $bad -eq 0 ] || die "kernel config fragments did not apply for $arch; fix the dependencies named above in kernel/config/"
}

# build_kernel OUTDIR OBJDIR: configure and build bzImage + modules in
# OBJDIR, keep the results in OUTDIR.
build_kernel() {
	local out=$1 obj=$2 log=$1/build.log start
	mkdir -p "$obj" "$out"
	configure "$obj"
	start=$(date +%s)
	say "building the $LINUX_VERSION $arch kernel in $obj (about 7-10 min on 2 cores with a cold ccache; log: $log)"
	if ! kmake O="$obj" -j"$JOBS" CC="ccache ${CROSS}gcc" KBUILD_BUILD_TIMESTAMP=hugepfn \
		KBUILD_BUILD_USER=hugepfn KBUILD_BUILD_HOST=hugepfn "$(basename "$IMAGE")" modules \
		> "$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "kernel build failed; the full log is $log"
	fi
	if grep -E '(^|: )warning:' "$log" | grep -v 'objtool' > "$out/warnings.txt"; then
		say "kernel build warnings (see $out/warnings.txt):"
		head -n 20 "$out/warnings.txt" >&2
	fi
	cp "$obj/$IMAGE" "$out/$(basename "$IMAGE")"
	cp "$obj/.config" "$out/config"
	echo "$arch" > "$out/arch"
	kmake -s O="$obj" kernelrelease > "$out/release"
	say "kernel built in $(( $(date +%s) - start ))s: $(cat "$out/release")"
}

# compiler_id: the compiler's own version line, part of every cache key:
# a Debian gcc update must not reuse a kernel (or a prefix verdict) built
# with the old one. ccache hashes the compiler by itself.
compiler_id() {
	"${CROSS}gcc" --version | head -n 1
}

build_inputs_hash() {
	local patches
	mapfile -t patches < <(series_patches)
	{ echo "$src_version $arch $(compiler_id)"; hash_inputs "${patches[@]}" "${CONFIGS[@]}" "$0"; } |
		sha256sum | cut -c1-16
}

# The base kernel (--base): the Debian source without the series, with the
# same config fragments. Its own key (no patches), build tree and source:
# a git worktree of branch 'base', so that the shared tree stays on
# 'hugepfn' (checking 'base' out there would rewrite the headers the series
# changes and force a full rebuild of the patched tree).
# 6.12's are linux-base and obj-base, 7.3's linux-src-7.3-base and obj-7.3-base.
if [ -z "$LINUX_CACHE_TAG" ]; then
	BASE_SRC=$HUGEPFN_CACHE/linux-base
else
	BASE_SRC=$LINUX_SRC-base
fi
base_inputs_hash() {
	{ echo "$src_version $arch base $(compiler_id)"; hash_inputs "${CONFIGS[@]}" "$0"; } | sha256sum | cut -c1-16
}

# base_worktree: $BASE_SRC holds branch 'base' (detached), nothing else.
base_worktree() {
	local common
	common=$(git -C "$BASE_SRC" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ "$common" = "$(git -C "$SRC" rev-parse --path-format=absolute --git-common-dir)" ] &&
		[ "$(git -C "$BASE_SRC" rev-parse --show-toplevel 2>/dev/null)" = "$BASE_SRC" ]; then
		git -C "$BASE_SRC" checkout -q -f --detach base ||
			die "cannot check out branch 'base' in $BASE_SRC"
		return 0
	fi
	say "checking out branch 'base' of $SRC in its own worktree $BASE_SRC (one time)"
	rm -rf "$BASE_SRC"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$BASE_SRC" base >&2 ||
		die "git worktree add $BASE_SRC base failed"
}

# patch_paths PATCH: the files a patch changes.
patch_paths() {
	sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$1"
}

# compiled_here PATCH: does the patch change anything this architecture
# compiles or configures? Another architecture's arch/ directory, tools/
# (the kselftest is built by the VM harness) and Documentation/ are not.
compiled_here() {
	local path
	while read -r path; do
		case "$path" in
			"$ARCHDIR"/*) return 0 ;;
			arch/*|tools/*|Documentation/*) ;;
			*) return 0 ;;
		esac
	done < <(patch_paths "$1")
	return 1
}

# series_objects: what a quick prefix check compiles: mm/ and the
# architecture's mm/ whole (every user of the page-table helpers the series
# changes), and the object of every other C file of this kernel the series
# touches.
series_objects() {
	local p path
	echo mm/
	echo "$ARCHDIR/mm/"
	for p in "${all[@]}"; do
		patch_paths "$p"
	done | sort -u | while read -r path; do
		case "$path" in
			mm/*|"$ARCHDIR"/mm/*) ;;
			arch/*|tools/*|Documentation/*) ;;
			*.c) echo "${path%.c}.o" ;;
		esac
	done
}

# check_prefixes: prove that every prefix of the series (0..N patches)
# builds for $arch with the test config: every prefix compiles
# series_objects(). A header the series changes (pgtable.h, huge_mm.h)
# makes a full build of a prefix a whole-kernel compile, five of them in
# the series: 15 minutes for x86_64 alone, which the test command's budget
# has not; the whole series is built in full for every architecture the
# test command builds a kernel of, and --full builds every x86_64 prefix in
# full. A patch that changes nothing this architecture compiles (another
# architecture's files, the kselftest) leaves the prefix as the previous
# one, and is reported so without a build.
check_prefixes() {
	local i pkey prev_key= name obj targets what start quick full
	mapfile -t all < <(series_patches)
	obj=$(obj_dir)
	mapfile -t quick < <(series_objects)
	full=("$(basename "$IMAGE")" modules)
	mkdir -p "$HUGEPFN_CACHE/prefix-ok"
	for ((i = 0; i <= ${#all[@]}; i++)); do
		if [ -n "$full_prefixes" ] && [ "$i" -gt 0 ]; then
			targets=("${full[@]}")
			what="builds"
		else
			targets=("${quick[@]}")
			what="compiles (${targets[*]})"
		fi
		# A prefix whose exact inputs built before is not rebuilt.
		pkey=$( { echo "$src_version $arch$variant ${targets[*]} $(compiler_id)"; hash_inputs "${all[@]:0:$i}" "${CONFIGS[@]}" "$0"; } |
			sha256sum | cut -c1-16)
		if [ "$i" -eq 0 ]; then
			name="$LINUX_VERSION $arch${variant:+ $variant}: series prefix 0 (the Debian source alone)"
		else
			name="$LINUX_VERSION $arch${variant:+ $variant}: series prefix $i (up to ${all[$((i - 1))]##*/})"
		fi
		if [ -f "$HUGEPFN_CACHE/prefix-ok/$pkey" ]; then
			echo "ok - $name $what (verified earlier with identical inputs)"
		elif [ "$i" -gt 0 ] && [ -n "$prev_key" ] && ! compiled_here "${all[$((i - 1))]}"; then
			touch "$HUGEPFN_CACHE/prefix-ok/$pkey"
			echo "ok - $name $what (the patch changes nothing compiled for $arch: as prefix $((i - 1)))"
		else
			apply_series "$i"
			rm -f "$obj/.hugepfn-key"
			mkdir -p "$obj"
			configure "$obj"
			start=$(date +%s)
			say "$LINUX_VERSION $arch${variant:+ $variant} prefix $i/${#all[@]}: building ${targets[*]}"
			if ! kmake O="$obj" -j"$JOBS" CC="ccache ${CROSS}gcc" KBUILD_BUILD_TIMESTAMP=hugepfn \
				"${targets[@]}" > "$obj/build.log" 2>&1; then
				tail -n 40 "$obj/build.log" >&2
				echo "not ok - $name does not build; log: $obj/build.log"
				apply_series
				exit 1
			fi
			touch "$HUGEPFN_CACHE/prefix-ok/$pkey"
			echo "ok - $name $what in $(( $(date +%s) - start ))s"
		fi
		prev_key=$pkey
	done
	apply_series
}

unpack_source

case $mode in
uapi)
	# The series changes no uAPI header: the pristine source's are the ones.
	dir=$UAPI_DIR
	if [ ! -f "$dir/include/linux/vfio.h" ]; then
		say "installing the uAPI headers of $KERNEL_SOURCE_PKG $src_version"
		rm -rf "$dir" "$HUGEPFN_CACHE/uapi-obj$LINUX_CACHE_TAG"
		make -s -C "$SRC" O="$HUGEPFN_CACHE/uapi-obj$LINUX_CACHE_TAG" INSTALL_HDR_PATH="$dir" headers_install >&2 ||
			die "make headers_install failed"
		rm -rf "$HUGEPFN_CACHE/uapi-obj$LINUX_CACHE_TAG"
	fi
	echo "$dir"
	exit 0
	;;
tree)
	apply_series
	echo "$SRC"
	exit 0
	;;
prefixes)
	check_prefixes
	exit 0
	;;
esac

if [ "$mode" = base ]; then
	[ "$arch" = x86_64 ] || die "--base builds the x86_64 kernel only (the upstream mm selftests run on x86_64)"
	key=$(base_inputs_hash)
	OBJ=$HUGEPFN_CACHE/obj$LINUX_CACHE_TAG-base
	base_worktree
	SRC=$BASE_SRC
else
	key=$(build_inputs_hash)
	OBJ=$(obj_dir)
	apply_series
fi
KDIR=$HUGEPFN_CACHE/kernels/$key
# The build tree is shared and rebuilt incrementally; its stamp says which
# inputs it holds, so out-of-tree modules always build against the kernel
# that boots.
if [ ! -f "$KDIR/$(basename "$IMAGE")" ] || [ "$(cat "$OBJ/.hugepfn-key" 2>/dev/null)" != "$key" ]; then
	rm -f "$OBJ/.hugepfn-key"
	build_kernel "$KDIR" "$OBJ"
	echo "$key" > "$OBJ/.hugepfn-key"
else
	[ -n "$quiet" ] || say "kernel $key is cached: $(cat "$KDIR/release")"
fi
ln -sfn "$SRC" "$KDIR/src"
ln -sfn "$OBJ" "$KDIR/obj"
echo "$KDIR"

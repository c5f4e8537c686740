#!/usr/bin/env bash
# Build the hugepfn test kernel: Debian's linux-source-6.12 plus
# kernel/patches/series, configured from kernel/config/*.config merged over
# tinyconfig. Built kernels are cached by a hash of (source version, patches,
# config fragments, this script), so unchanged inputs are never rebuilt.
#
# Usage: kernel/build.sh [--tree] [--prefixes] [--uapi] [--print-dir] [--help]
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: kernel/build.sh [OPTION]

Builds (or finds in the cache) the patched 6.12 test kernel and prints the
directory holding bzImage, .config and the build tree for out-of-tree modules.

  --tree       only prepare the git tree (base + series applied) and print its
               path; edit it, then regenerate the series (see kernel/README.md)
  --prefixes   build every prefix of the series (0..N patches) with the test
               config, to prove each patch builds on its own
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
case "${1:-}" in
	"") ;;
	--tree) mode=tree ;;
	--prefixes) mode=prefixes ;;
	--uapi) mode=uapi ;;
	--print-dir) quiet=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
esac

need_all_packages

src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
UAPI_DIR=$HUGEPFN_CACHE/uapi/$src_version
# Installed headers need no tree: answer without waiting for a build.
if [ "$mode" = uapi ] && [ -f "$UAPI_DIR/include/linux/vfio.h" ]; then
	echo "$UAPI_DIR"
	exit 0
fi

# One build.sh at a time: they share the source tree and the build tree.
mkdir -p "$HUGEPFN_CACHE"
exec {lock_fd}>"$HUGEPFN_CACHE/build.lock"
if ! flock -n "$lock_fd"; then
	say "waiting for another kernel/build.sh to finish"
	flock "$lock_fd"
fi

SRC=$HUGEPFN_CACHE/linux
PATCHDIR=$HUGEPFN_ROOT/kernel/patches
CONFIGS=("$HUGEPFN_ROOT"/kernel/config/*.config)

series_patches() {
	local p
	[ -f "$PATCHDIR/series" ] || return 0
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		[ -f "$PATCHDIR/$p" ] || die "kernel/patches/series names '$p', which does not exist"
		printf '%s\n' "$PATCHDIR/$p"
	done < "$PATCHDIR/series"
}

# unpack_source: a git tree of the pristine Debian source, branch 'base'.
unpack_source() {
	if [ -f "$SRC/.hugepfn-base-$src_version" ]; then
		return 0
	fi
	say "unpacking $KERNEL_SOURCE_TARBALL ($src_version) into $SRC (one time, ~2 min)"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$KERNEL_SOURCE_TARBALL" -C "$SRC" --strip-components=1
	(
		cd "$SRC"
		git init -q -b base
		git config user.name "hugepfn developers"
		git config user.email "hugepfn@invalid"
		git config core.autocrlf false
		# Debian's tarball ignores every top-level entry ('/*' for its
		# packaging repository), which would hide new files from git.
		git add -A -f . >/dev/null
		git commit -q -m "Debian linux-source-6.12 $src_version"
		sed -i '/^# Debian packaging/,$d' .gitignore
		git commit -q -a -m "Drop the Debian packaging ignore rules"
	)
	touch "$SRC/.hugepfn-base-$src_version"
	printf '.hugepfn-*\n' >> "$SRC/.git/info/exclude"
}

# A patch without its "From <sha>" line and "[PATCH n/m]" numbering.
normalize_patch() {
	python3 -c '
import email, re, sys
m = email.message_from_string(sys.stdin.read())
subject = re.sub(r"^\[PATCH[^]]*\] ", "", " ".join(m["Subject"].split()))
print(m["From"], m["Date"], subject, m.get_payload(), sep="\n")'
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
		say "applying patches $((keep + 1))..$n of kernel/patches/series ($keep already applied)"
	elif [ "$n" -gt 0 ]; then
		say "the tree holds all $n patches of kernel/patches/series already"
	fi
	rm -f "$SRC/.hugepfn-applied"
	git -C "$SRC" checkout -q -f -B hugepfn "$tip"
	if [ "$n" -gt "$keep" ]; then
		git -C "$SRC" am -q --keep-cr "${patches[@]:$keep}" ||
			die "a patch of kernel/patches/series does not apply to linux-source $src_version (see 'git -C $SRC am --show-current-patch')"
	fi
	echo "$stamp" > "$SRC/.hugepfn-applied"
}

# configure OBJ: tinyconfig + fragments, then check every requested option
# really ended up in .config (Kconfig silently drops unmet dependencies).
configure() {
	local obj=$1 frag line sym want got bad=0
	make -s -C "$SRC" O="$obj" tinyconfig >/dev/null
	(cd "$SRC" && scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "${CONFIGS[@]}" >/dev/null)
	make -s -C "$SRC" O="$obj" olddefconfig >/dev/null
	for frag in "${CONFIGS[@]}"; do
		while read -r line; do
			case "$line" in
				CONFIG_*=*) sym=${line%%=*}; want=$line ;;
				"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=$line ;;
				*) continue ;;
			esac
			got=$(grep -E "^(# )?$sym[= ]" "$obj/.config" || echo "# $sym is not set")
			if [ "$got" != "$want" ]; then
				echo "config: $(basename "$frag") wants '$want', .config has '$got'" >&2
				bad=1
			fi
		done < "$frag"
	done
	[ $bad -eq 0 ] || die "kernel config fragments did not apply; fix the dependencies named above in kernel/config/"
}

# build_kernel OUTDIR OBJDIR: configure and build bzImage + modules in
# OBJDIR, keep the results in OUTDIR.
build_kernel() {
	local out=$1 obj=$2 log=$1/build.log start
	mkdir -p "$obj" "$out"
	configure "$obj"
	start=$(date +%s)
	say "building kernel in $obj (about 7-10 min on 2 cores with a cold ccache; log: $log)"
	if ! make -C "$SRC" O="$obj" -j"$JOBS" CC="ccache gcc" KBUILD_BUILD_TIMESTAMP=hugepfn \
		KBUILD_BUILD_USER=hugepfn KBUILD_BUILD_HOST=hugepfn bzImage modules > "$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "kernel build failed; the full log is $log"
	fi
	if grep -E '(^|: )warning:' "$log" | grep -v 'objtool' > "$out/warnings.txt"; then
		say "kernel build warnings (see $out/warnings.txt):"
		head -n 20 "$out/warnings.txt" >&2
	fi
	cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
	cp "$obj/.config" "$out/config"
	make -s -C "$SRC" O="$obj" kernelrelease > "$out/release"
	say "kernel built in $(( $(date +%s) - start ))s: $(cat "$out/release")"
}

build_inputs_hash() {
	local patches
	mapfile -t patches < <(series_patches)
	{ echo "$src_version"; hash_inputs "${patches[@]}" "${CONFIGS[@]}" "$0"; } | sha256sum | cut -c1-16
}

unpack_source

case $mode in
uapi)
	# The series changes no uAPI header: the pristine source's are the ones.
	dir=$UAPI_DIR
	if [ ! -f "$dir/include/linux/vfio.h" ]; then
		say "installing the uAPI headers of linux-source-6.12 $src_version"
		rm -rf "$dir" "$HUGEPFN_CACHE/uapi-obj"
		make -s -C "$SRC" O="$HUGEPFN_CACHE/uapi-obj" INSTALL_HDR_PATH="$dir" headers_install >&2 ||
			die "make headers_install failed"
		rm -rf "$HUGEPFN_CACHE/uapi-obj"
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
	mapfile -t all < <(series_patches)
	obj=$HUGEPFN_CACHE/obj
	mkdir -p "$HUGEPFN_CACHE/prefix-ok"
	for ((i = 0; i <= ${#all[@]}; i++)); do
		# A prefix whose exact inputs built before is not rebuilt.
		pkey=$( { echo "$src_version"; hash_inputs "${all[@]:0:$i}" "${CONFIGS[@]}" "$0"; } |
			sha256sum | cut -c1-16)
		if [ "$i" -eq 0 ]; then
			name="series prefix 0 (the Debian source alone)"
		else
			name="series prefix $i (up to ${all[$((i - 1))]##*/})"
		fi
		if [ -f "$HUGEPFN_CACHE/prefix-ok/$pkey" ]; then
			echo "ok - $name builds (verified earlier with identical inputs)"
			continue
		fi
		apply_series "$i"
		rm -f "$obj/.hugepfn-key"
		mkdir -p "$obj"
		configure "$obj"
		say "prefix $i/${#all[@]}: building"
		if ! make -C "$SRC" O="$obj" -j"$JOBS" CC="ccache gcc" KBUILD_BUILD_TIMESTAMP=hugepfn \
			bzImage modules > "$obj/build.log" 2>&1; then
			tail -n 40 "$obj/build.log" >&2
			echo "not ok - $name does not build; log: $obj/build.log"
			apply_series
			exit 1
		fi
		touch "$HUGEPFN_CACHE/prefix-ok/$pkey"
		echo "ok - $name builds"
	done
	apply_series
	exit 0
	;;
esac

key=$(build_inputs_hash)
KDIR=$HUGEPFN_CACHE/kernels/$key
OBJ=$HUGEPFN_CACHE/obj
apply_series
# The build tree is shared and rebuilt incrementally; its stamp says which
# inputs it holds, so out-of-tree modules always build against the kernel
# that boots.
if [ ! -f "$KDIR/bzImage" ] || [ "$(cat "$OBJ/.hugepfn-key" 2>/dev/null)" != "$key" ]; then
	rm -f "$OBJ/.hugepfn-key"
	build_kernel "$KDIR" "$OBJ"
	echo "$key" > "$OBJ/.hugepfn-key"
else
	[ -n "$quiet" ] || say "kernel $key is cached: $(cat "$KDIR/release")"
fi
ln -sfn "$SRC" "$KDIR/src"
ln -sfn "$OBJ" "$KDIR/obj"
echo "$KDIR"

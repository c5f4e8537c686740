#!/usr/bin/env bash
# Build the upstream mm selftests the VM runs (tests/vm/guest/t_mm_selftests.sh)
# from tools/testing/selftests/mm of the Debian source of one Linux version
# (6.12 by default, --linux 7.3; branch 'base' of that version's cached
# kernel tree: the series adds only its own remap_pfn_pmd test there),
# statically (the guest has no libc), against the source's uAPI headers, with
# upstream's Makefile building only the wanted targets. x86_64 only. Cached
# by a hash of its inputs. Copies the programs into DESTDIR.
# Usage: tests/vm/build-mm-selftests.sh [--linux VERSION] DESTDIR
set -euo pipefail
. "$(dirname "$0")/common.sh"

linux=6.12
if [ "${1:-}" = --linux ]; then
	[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
	linux=$2
	shift 2
fi
[ $# -eq 1 ] || die "usage: tests/vm/build-mm-selftests.sh [--linux VERSION] DESTDIR"
linux_select "$linux"
dest=$1
# What t_mm_selftests.sh runs; README "Upstream mm selftests" says why the
# others are left out.
PROGS=(map_fixed_noreplace mremap_dontunmap mremap_test mlock2-tests madv_populate
	soft-dirty mseal_test mdwe_test mrelease_test droppable mkdirty gup_test
	pagemap_ioctl uffd-unit-tests split_huge_page_test cow)

# kernel/build.sh --uapi unpacks the source tree when it is not there yet.
uapi=$("$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --uapi)
[ -f "$uapi/include/linux/userfaultfd.h" ] || die "no uAPI headers in $uapi (kernel/build.sh --linux $linux --uapi)"
tree=$LINUX_SRC
git -C "$tree" rev-parse -q --verify base >/dev/null 2>&1 ||
	die "no kernel source tree with branch 'base' in $tree; run kernel/build.sh --linux $linux first"

out=$HUGEPFN_BUILD/mm-selftests$LINUX_CACHE_TAG
key=$( { git -C "$tree" rev-parse base; echo "$uapi ${PROGS[*]}"; gcc --version | head -n 1
	hash_inputs "$0" "$HUGEPFN_ROOT/tests/vm/mm-selftests-linebuf.c"; } | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" != "$key" ]; then
	say "building the upstream mm selftests (${#PROGS[@]} programs, static) from $KERNEL_SOURCE_PKG 'base'"
	rm -rf "$out"
	mkdir -p "$out/src" "$out/bin"
	# Only what the Makefile and the programs read: the mm selftests, the
	# kselftest framework, tools/ headers, mm/gup_test.h; x86/ for the
	# Makefile's compiler checks.
	git -C "$tree" archive base tools/testing/selftests/lib.mk tools/testing/selftests/kselftest.h \
		tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest \
		tools/testing/selftests/mm tools/testing/selftests/x86 tools/include tools/arch/x86 \
		mm/gup_test.h | tar -x -C "$out/src" || die "git archive of the mm selftests failed"
	gcc -O2 -Wall -c -o "$out/linebuf.o" "$HUGEPFN_ROOT/tests/vm/mm-selftests-linebuf.c"
	# KHDR_INCLUDES: the source's installed uAPI headers (lib.mk's default
	# is the source tree's usr/include, from 'make headers'). liburing is
	# not installed: cow's io_uring variants skip (as upstream without it).
	if ! make -C "$out/src/tools/testing/selftests/mm" -j"$JOBS" OUTPUT="$out/bin" \
		KHDR_INCLUDES="-isystem $uapi/include" LDFLAGS="-static -s $out/linebuf.o" \
		"${PROGS[@]/#/$out/bin/}" > "$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		die "building the mm selftests failed; log: $out/build.log"
	fi
	echo "$key" > "$out/.key"
fi
mkdir -p "$dest"
for p in "${PROGS[@]}"; do
	cp "$out/bin/$p" "$dest/"
done

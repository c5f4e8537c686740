#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# bounded time from its seed corpus. Prints TAP, one line a target.
# Usage: tests/fuzz/run.sh [SECONDS]   (per target; default 20)
#
#   fuzz_parsers  the library's parsers of kernel-provided text
#                 (seeds/parsers)
#   fuzz_options  the hugepfn tool's command line and sizes, tools/options.c
#                 (seeds/options)
#   fuzz_records  the records bind --apply-persistent reads as root at boot,
#                 tools/records.c (seeds/records)
#
# Each links every lib/*.c, so that none depends on which file of the
# library a parser or hugepfn_backend_name() lives in.
set -euo pipefail
. "$(dirname "$0")/../vm/common.sh"
secs=${1:-20}
need_packages clang libclang-rt-14-dev libpci-dev libjson-c-dev
out=$HUGEPFN_BUILD/fuzz
root=$HUGEPFN_ROOT
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
	"-DHUGEPFN_VERSION_STRING=\"$(cat "$root/VERSION")\""
	-I"$root/lib" -I"$root/lib/include" -I"$root/kernel/driver/include/uapi")

# fuzz TARGET WHAT SOURCES...: build TARGET, run it over a fresh copy of its
# seeds, print its TAP line; 1 when it crashed or did not build.
fuzz() {
	local target=$1 what=$2 log=$out/$1.log
	shift 2
	rm -rf "${out:?}/$target-corpus"
	mkdir -p "$out/$target-corpus"
	cp "$root/tests/fuzz/seeds/${target#fuzz_}"/* "$out/$target-corpus/"
	if ! clang "${cflags[@]}" "$@" "$root"/lib/*.c -o "$out/$target" -lpci -ljson-c -lpthread \
		> "$out/$target.build.log" 2>&1; then
		tail -n 30 "$out/$target.build.log"
		echo "not ok - fuzz: $target does not build (log in $out/$target.build.log)"
		return 1
	fi
	# -close_fd_mask=3: the tool's usage messages would drown the log;
	# libFuzzer keeps its own report on a copy of stderr
	if "$out/$target" -max_total_time="$secs" -max_len=4096 -close_fd_mask=3 \
		-artifact_prefix="$out/$target-" "$out/$target-corpus" \
		> "$log" 2>&1; then
		echo "ok - fuzz: $what ran ${secs}s under ASan/UBSan without a crash ($(grep -o 'Done [0-9]* runs' "$log" || echo 'runs unknown'))"
	else
		tail -n 30 "$log"
		echo "not ok - fuzz: $target crashed; reproducer and log in $out"
		return 1
	fi
}

mkdir -p "$out"
rc=0
fuzz fuzz_parsers "the text parsers" "$root/tests/fuzz/fuzz_parsers.c" || rc=1
fuzz fuzz_options "the tool's command line and sizes" -I"$root/tools" \
	"$root/tests/fuzz/fuzz_options.c" "$root/tools/options.c" "$root/tools/util.c" || rc=1
fuzz fuzz_records "the boot-binding records" -I"$root/tools" -DHUGEPFN_SYSCONFDIR='"/etc"' \
	"$root/tests/fuzz/fuzz_records.c" "$root/tools/records.c" "$root/tools/util.c" || rc=1
exit $rc

#!/usr/bin/env bash
# Build the libFuzzer target with clang (ASan + UBSan) and run it for a
# bounded time from the seed corpus. Prints TAP. Usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
. "$(dirname "$0")/../vm/common.sh"
secs=${1:-20}
need_packages clang libclang-rt-14-dev
out=$HUGEPFN_BUILD/fuzz
mkdir -p "$out/corpus"
cp "$HUGEPFN_ROOT"/tests/fuzz/seeds/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$HUGEPFN_ROOT/lib" -I"$HUGEPFN_ROOT/lib/include" \
	"$HUGEPFN_ROOT/tests/fuzz/fuzz_parsers.c" "$HUGEPFN_ROOT/lib/ptdump.c" "$HUGEPFN_ROOT/lib/sysfs.c" \
	"$HUGEPFN_ROOT/lib/context.c" "$HUGEPFN_ROOT/lib/vfio_caps.c" "$HUGEPFN_ROOT/lib/align.c" -o "$out/fuzz_parsers" -lpthread
if "$out/fuzz_parsers" -max_total_time="$secs" -max_len=4096 "$out/corpus" > "$out/fuzz.log" 2>&1; then
	echo "ok - fuzz: the text parsers ran ${secs}s under ASan/UBSan without a crash ($(grep -o 'Done [0-9]* runs' "$out/fuzz.log" || echo 'runs unknown'))"
else
	tail -n 30 "$out/fuzz.log"
	echo "not ok - fuzz: a parser crashed; reproducer and log in $out"
	exit 1
fi

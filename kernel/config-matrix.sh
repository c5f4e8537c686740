#!/usr/bin/env bash
# Compile-check every prefix of the series in the configurations besides
# the test config that select the code it touches: THP off (x86_64, arm64,
# riscv64), PREEMPT_RT (arm64) and 32-bit x86 without PAE. Each is
# kernel/build.sh --prefixes with a variant fragment from
# kernel/config/variants/, in its own build tree; verdicts are cached like
# the other prefix checks. Not part of tests/run.sh: a cold run takes about
# half an hour on 2 cores (kernel/README.md, "Config matrix").
set -euo pipefail
. "$(dirname "$0")/../tests/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: kernel/config-matrix.sh [--linux VERSION] [--only ARCH:VARIANT] [-h|--help]

Compile-checks every prefix of kernel/patches/VERSION/series (mm/, the
arch's mm/ and the series' other C files) in each of:

  x86_64:thp-off  arm64:thp-off  riscv64:thp-off  arm64:preempt-rt  i386:i386

and prints one line per configuration with its result and time. Exit
status 0 only when every prefix of every configuration compiles.

  --linux VERSION      6.12 (the default) or 7.3: the series and source
  --only ARCH:VARIANT  check one configuration of the list
  -h, --help           this text
USAGE
}

MATRIX=(x86_64:thp-off arm64:thp-off riscv64:thp-off arm64:preempt-rt i386:i386)
linux=6.12
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--only)
			[ $# -ge 2 ] || die "--only needs ARCH:VARIANT (try --help)"
			[[ " ${MATRIX[*]} " == *" $2 "* ]] || die "'$2' is not one of: ${MATRIX[*]}"
			MATRIX=("$2")
			shift ;;
		--linux)
			[ $# -ge 2 ] || die "--linux needs a version: ${HUGEPFN_LINUX_VERSIONS[*]}"
			linux=$2
			shift ;;
		*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

results=()
failed=0
for cfg in "${MATRIX[@]}"; do
	start=$(date +%s)
	say "== $cfg: every prefix of the series"
	if "$HUGEPFN_ROOT/kernel/build.sh" --linux "$linux" --arch "${cfg%%:*}" --variant "${cfg#*:}" --prefixes; then
		verdict=ok
	else
		verdict=FAILED
		failed=1
	fi
	results+=("$(printf '%-18s %-7s %5ss' "$cfg" "$verdict" $(( $(date +%s) - start )))")
done
printf '\n%-18s %-7s %6s\n' configuration result time
printf '%s\n' "${results[@]}"
exit "$failed"

#!/usr/bin/env bash
# The fresh-machine proof: the README's two commands ("Two commands":
# examples/demo.sh, then tests/run.sh) run as root in a clean Debian 12
# (bookworm) root made with debootstrap, from a copy of this checkout, with
# an empty HOME (so ~/.cache/hugepfn and ccache start empty) and nothing
# installed beyond debootstrap's minimal system. Each command's output is
# shown live and kept in build/fresh-machine/; a table of exit status and
# wall time ends the run. Over an hour on 2 cores: not part of tests/run.sh.
set -euo pipefail
. "$(dirname "$0")/vm/common.sh"

usage() {
	cat <<'USAGE'
Usage: tests/fresh-machine.sh [OPTIONS]     (as root)

Proves that the README's two commands pass on a fresh Debian 12 machine:
makes a clean bookworm root with debootstrap (the host's Debian mirror;
bookworm, bookworm-updates and bookworm-security in its apt sources, as a
Debian 12 install has them), copies this checkout to /root/hugepfn in it
(tracked and untracked-but-not-ignored files, as a fresh git repository;
no build/, no caches), mounts /proc, /sys, /dev, /dev/pts, /dev/shm, /tmp
and /run, and runs there, as root with an empty HOME and a clean
environment:

  examples/demo.sh     then     tests/run.sh

Their output is shown live and kept in build/fresh-machine/{demo,tests}.log,
the summary in build/fresh-machine/summary.{txt,json}. Takes over an hour
on 2 cores and ~20 GB of disk. Everything runs in a private mount
namespace: the mounts go away with the script, also on failure or Ctrl-C.
Exit status 0 only when every command run exited 0.

  --dir DIR        where to build the root (default
                   /var/tmp/hugepfn-fresh-machine); an earlier root made by
                   this script there is replaced
  --keep           keep the root afterwards (default: delete it)
  --only demo|tests
                   run only one of the two commands
  --warm           then run tests/run.sh once more, on the caches the
                   first run left: the warm time of the test command
  --variant minbase|default
                   debootstrap variant (default minbase: the smallest
                   Debian 12 system, so nothing the scripts forget to
                   install is there by chance)
  --mirror URL     Debian mirror (default: the host's, from its apt sources)
  --command CMD    run CMD (bash, in /root/hugepfn) instead of the two
                   commands; for checking this script itself, e.g.
                   --command 'apt-get update && tests/run.sh --help'
  --json           print the summary as JSON on stdout (progress and the
                   commands' output go to stderr in every case)
  -h, --help       this text
USAGE
}

ARGS=("$@")
DIR=/var/tmp/hugepfn-fresh-machine
KEEP=
ONLY=
VARIANT=minbase
MIRROR=
CUSTOM=
JSON=
WARM=
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--dir) [ $# -ge 2 ] || die "--dir needs a directory (try --help)"; DIR=$2; shift ;;
		--keep) KEEP=1 ;;
		--only)
			[ $# -ge 2 ] || die "--only needs 'demo' or 'tests' (try --help)"
			case "$2" in demo|tests) ONLY=$2 ;; *) die "--only takes 'demo' or 'tests', not '$2'" ;; esac
			shift ;;
		--variant)
			[ $# -ge 2 ] || die "--variant needs 'minbase' or 'default' (try --help)"
			case "$2" in minbase|default) VARIANT=$2 ;; *) die "--variant takes 'minbase' or 'default', not '$2'" ;; esac
			shift ;;
		--mirror) [ $# -ge 2 ] || die "--mirror needs a URL (try --help)"; MIRROR=$2; shift ;;
		--command) [ $# -ge 2 ] || die "--command needs a command line (try --help)"; CUSTOM=$2; shift ;;
		--json) JSON=1 ;;
		--warm) WARM=1 ;;
		*) echo "error: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$ONLY" ] && [ -n "$CUSTOM" ] && die "--only and --command exclude each other"

[ "$(id -u)" -eq 0 ] ||
	die "must run as root: it runs debootstrap, mounts /proc, /sys and /dev into the new root and chroots into it; run: sudo $0 ${ARGS[*]}"

# The commands, exactly as README.md's "Two commands" block has them; the
# script refuses to prove something else when that block changes.
NAMES=(demo tests)
CMDS=(examples/demo.sh tests/run.sh)
readme_cmds=$(awk '/^## Two commands/ { f = 1 } f && /^```sh/ { b = 1; next } b && /^```/ { exit }
	b { sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 != "") print }' "$HUGEPFN_ROOT/README.md")
[ "$readme_cmds" = "$(printf '%s\n' "${CMDS[@]}")" ] ||
	die "README.md's \"Two commands\" block no longer reads '${CMDS[*]}' (it reads: '$(tr '\n' ' ' <<<"$readme_cmds")'); update CMDS in $0 to match it"
if [ -n "$CUSTOM" ]; then
	NAMES=(command) CMDS=("$CUSTOM")
elif [ "$ONLY" = demo ]; then
	NAMES=(demo) CMDS=(examples/demo.sh)
elif [ "$ONLY" = tests ]; then
	NAMES=(tests) CMDS=(tests/run.sh)
fi
if [ -n "$WARM" ]; then
	[ -z "$CUSTOM" ] && [ "$ONLY" != demo ] || die "--warm reruns tests/run.sh: not with --command or --only demo"
	NAMES+=(tests-warm) CMDS+=(tests/run.sh)
fi

case "$DIR" in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=$(realpath -m -- "$DIR")
# mountinfo escapes odd characters, and a few paths must never be wiped.
[[ "$DIR" =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "--dir '$DIR': use a path of letters, digits and ._+-/ only"
case "$DIR" in
	/|/bin|/boot|/dev|/etc|/home|/lib*|/media|/mnt|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/usr/*|/var|/var/tmp)
		die "--dir $DIR would replace a system directory; choose a new directory such as /var/tmp/hugepfn-fresh-machine" ;;
esac
case "$DIR/" in "$HUGEPFN_ROOT"/*)
	git -c safe.directory="$HUGEPFN_ROOT" -C "$HUGEPFN_ROOT" check-ignore -q "$DIR" ||
		die "--dir $DIR is inside the checkout and not ignored by git: its files would be copied into itself; use build/... or a directory outside $HUGEPFN_ROOT" ;;
esac
case "$HUGEPFN_ROOT/" in "$DIR"/*)
	die "--dir $DIR contains the checkout; choose a new directory such as /var/tmp/hugepfn-fresh-machine" ;;
esac

LOGDIR=$HUGEPFN_BUILD/fresh-machine
MARKER=$DIR.lock   # the lock; not empty: the root was made by this script
JOBROOT=/root/hugepfn       # the checkout, inside the root

# Everything below runs in a private mount namespace: whatever is mounted
# into the root disappears with this process, even when it is killed.
if [ -z "${HUGEPFN_FRESH_NS:-}" ]; then
	need_packages debootstrap git
	command -v unshare >/dev/null || die "unshare (util-linux) is missing; run: apt-get install util-linux"
	HUGEPFN_FRESH_NS=1 exec unshare --mount --propagation private -- "$BASH" "$0" "${ARGS[@]}"
fi

mkdir -p "$(dirname "$DIR")" "$LOGDIR"
had_marker=
[ -e "$MARKER" ] && had_marker=1
exec 9>>"$MARKER"
flock -n 9 || die "another tests/fresh-machine.sh run is using $DIR; wait for it or choose another --dir"
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -s "$MARKER" ]; then
	[ -n "$had_marker" ] || rm -f "$MARKER"
	die "$DIR exists, is not empty and was not made by this script; remove it or choose another --dir"
fi
# From here on $DIR is this run's: the cleanup may unmount and delete it.

# shellcheck disable=SC2317
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	root_kill "$DIR"
	root_unmount "$DIR"
	if [ -n "$KEEP" ] && [ -d "$DIR" ]; then
		say "kept the root in $DIR (delete it with: rm -rf --one-file-system $DIR $MARKER)"
	elif [ -d "$DIR" ] && [ -s "$MARKER" ]; then
		say "deleting the root $DIR"
		root_remove "$DIR" && rm -f "$MARKER"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM HUP

# mmss SECONDS: minutes:seconds.
mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# json_str S: S as a JSON string.
json_str() {
	local s=$1
	s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

debian_mirrors

# What is being proven: the checkout's commit, and whether it has changes.
commit=$(git -c safe.directory="$HUGEPFN_ROOT" -C "$HUGEPFN_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git -c safe.directory="$HUGEPFN_ROOT" -C "$HUGEPFN_ROOT" status --porcelain --untracked-files=normal 2>/dev/null | wc -l)
checkout=$commit
[ "$dirty" -eq 0 ] || checkout="$commit + $dirty uncommitted change(s)"

# --- the root ---------------------------------------------------------------
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
	say "replacing the root an earlier run left in $DIR"
	root_remove "$DIR" || exit 1
fi
echo "made by tests/fresh-machine.sh (pid $$, $(date -u +%FT%TZ)); delete together with $DIR" > "$MARKER"
mkdir -p "$DIR"

fsopts=$(findmnt -n -o OPTIONS -T "$DIR" 2>/dev/null || true)
case ",$fsopts," in *,noexec,*)
	die "$DIR is on a noexec file system, where nothing in the root could run; choose another --dir" ;;
esac
need_kb=$((20 * 1024 * 1024))
avail_kb=$(df -Pk "$DIR" | awk 'NR == 2 { print $4 }')
if [ "$avail_kb" -lt "$need_kb" ]; then
	msg="$DIR has $((avail_kb / 1024 / 1024)) GB free; the two commands need about 20 GB (packages, the 6.12 and 7.3 kernel trees and builds, ccache)"
	[ -n "$CUSTOM" ] || die "$msg; choose another --dir"
	say "warning: $msg"
fi

rm -f "$LOGDIR"/{debootstrap,demo,tests,command}.log "$LOGDIR"/summary.{txt,json}
variant_opt=()
[ "$VARIANT" = minbase ] && variant_opt=(--variant=minbase)
say "debootstrap bookworm ($VARIANT) from $MIRROR into $DIR (log: $LOGDIR/debootstrap.log)"
t0=$(date +%s)
set +e
debootstrap "${variant_opt[@]}" bookworm "$DIR" "$MIRROR" 2>&1 9>&- | tee "$LOGDIR/debootstrap.log" |
	while IFS= read -r line; do
		# Its steps, not one line a package.
		case "$line" in
			"I: "[A-Z]*" "*" "*...|*successfully*|E:*|W:*) say "  $line" ;;
		esac
	done
rc=${PIPESTATUS[0]}
set -e
debootstrap_s=$(( $(date +%s) - t0 ))
if [ "$rc" -ne 0 ]; then
	tail -n 20 "$LOGDIR/debootstrap.log" >&2
	[ -f "$DIR/debootstrap/debootstrap.log" ] && cp "$DIR/debootstrap/debootstrap.log" "$LOGDIR/debootstrap-inner.log"
	die "debootstrap failed (exit status $rc); see $LOGDIR/debootstrap.log${MIRROR:+ (mirror $MIRROR; another one: --mirror URL)}"
fi
say "debootstrap took $(mmss "$debootstrap_s")"

# The apt sources of a Debian 12 install: the release, its updates and the
# security suite, main only (what the project needs is in main).
cat > "$DIR/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
say "apt sources in the root: bookworm, bookworm-updates from $MIRROR; bookworm-security from $SECURITY"
# No services start in a chroot.
printf '#!/bin/sh\n# tests/fresh-machine.sh: no services start in this root\nexit 101\n' > "$DIR/usr/sbin/policy-rc.d"
chmod 755 "$DIR/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$DIR/etc/resolv.conf"

# --- the checkout -------------------------------------------------------------
say "copying the checkout (tracked and untracked-but-not-ignored files) to $JOBROOT"
# A clone has a repository: one commit of exactly the copied files (no
# project script needs it today; kernel/build.sh uses git on its own tree).
copy_checkout "$DIR$JOBROOT" tests/fresh-machine.sh || die "could not copy the checkout to $DIR$JOBROOT"
nfiles=$(find "$DIR$JOBROOT" -path "$DIR$JOBROOT/.git" -prune -o -type f -print | wc -l)
say "copied $nfiles files ($(du -sh --exclude=.git "$DIR$JOBROOT" | cut -f1)); HOME=/root is empty of caches"
[ ! -e "$DIR/root/.cache" ] || die "the new root already has /root/.cache; this should not happen (remove $DIR and retry)"

# --- what a real machine has mounted ------------------------------------------
mount -t proc -o nosuid,nodev,noexec proc "$DIR/proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$DIR/sys"
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs "$DIR/dev"
mkdir -p "$DIR/dev/pts" "$DIR/dev/shm"
# Its own pty instance: /dev/ptmx finds the devpts mounted next to it.
mount -t devpts -o newinstance,nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts "$DIR/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$DIR/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$DIR/tmp"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$DIR/run"
mkdir "$DIR/run/lock"
chmod 1777 "$DIR/run/lock"
say "mounted in the root: $(root_mounts "$DIR" | sed "s|^$DIR||" | sort | tr '\n' ' ')"

# --- the commands -------------------------------------------------------------
ENVIRONMENT=(env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	TERM=dumb LANG=C.UTF-8)
rcs=() secs=() logs=()
overall=0
for i in "${!CMDS[@]}"; do
	cmd=${CMDS[$i]} log=$LOGDIR/${NAMES[$i]}.log
	say "== $cmd (as root in the fresh root, in $JOBROOT; log: $log)"
	t0=$(date +%s)
	# In the background, so that a signal reaches this script's trap at
	# once (which ends what runs in the root) rather than after an hour.
	rm -f "$LOGDIR/.status"
	set +e
	{
		(umask 022; chroot "$DIR" "${ENVIRONMENT[@]}" /bin/bash -c "cd $JOBROOT && $cmd" </dev/null 2>&1 9>&-)
		echo $? > "$LOGDIR/.status"
	} | tee "$log" >&2 &
	wait $!
	set -e
	rc=$(cat "$LOGDIR/.status" 2>/dev/null || echo 255)
	rm -f "$LOGDIR/.status"
	s=$(( $(date +%s) - t0 ))
	say "== $cmd: exit status $rc after $(mmss "$s")"
	rcs+=("$rc") secs+=("$s") logs+=("$log")
	[ "$rc" -eq 0 ] || overall=1
done

# --- the summary --------------------------------------------------------------
rel() { printf '%s' "${1#"$HUGEPFN_ROOT"/}"; }
{
	echo "fresh Debian 12 ($VARIANT, $MIRROR) on $(date -u +%F), checkout $checkout"
	[ -z "$CUSTOM" ] || echo "--command: $CUSTOM"
	printf '%-18s %6s %8s  %s\n' COMMAND STATUS WALL LOG
	printf '%-18s %6s %8s  %s\n' debootstrap 0 "$(mmss "$debootstrap_s")" "$(rel "$LOGDIR/debootstrap.log")"
	for i in "${!CMDS[@]}"; do
		label=${CMDS[$i]}
		[ -z "$CUSTOM" ] || label=--command
		[ "${NAMES[$i]}" != tests-warm ] || label="$label (warm)"
		printf '%-18s %6s %8s  %s\n' "$label" "${rcs[$i]}" "$(mmss "${secs[$i]}")" "$(rel "${logs[$i]}")"
	done
	[ $overall -eq 0 ] && echo "PASS: every command exited 0" || echo "FAIL: a command exited non-zero; see its log"
} > "$LOGDIR/summary.txt"
{
	printf '{"ok": %s, "distribution": "debian bookworm", "variant": %s, "mirror": %s, "checkout": %s, "date": %s, "debootstrap_seconds": %d, "commands": [' \
		"$([ $overall -eq 0 ] && echo true || echo false)" "$(json_str "$VARIANT")" "$(json_str "$MIRROR")" \
		"$(json_str "$checkout")" "$(json_str "$(date -u +%FT%TZ)")" "$debootstrap_s"
	for i in "${!CMDS[@]}"; do
		[ "$i" -gt 0 ] && printf ', '
		printf '{"name": %s, "command": %s, "status": %d, "seconds": %d, "wall": %s, "log": %s}' \
			"$(json_str "${NAMES[$i]}")" "$(json_str "${CMDS[$i]}")" "${rcs[$i]}" "${secs[$i]}" \
			"$(json_str "$(mmss "${secs[$i]}")")" "$(json_str "${logs[$i]}")"
	done
	printf ']}\n'
} > "$LOGDIR/summary.json"
if [ -n "$JSON" ]; then
	cat "$LOGDIR/summary.json"
	cat "$LOGDIR/summary.txt" >&2
else
	echo
	cat "$LOGDIR/summary.txt"
fi
exit $overall

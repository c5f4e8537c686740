#!/usr/bin/env python3
"""libhugepfn's ABI against the checked-in baseline, as TAP (the "abi" test).

Usage: check_abi.py [--update] [--debug-info-required] BASELINE HEADERS_DIR SHARED

abidw (abigail-tools) describes SHARED, libhugepfn.so.1 as built, keeping
the types of the public headers in HEADERS_DIR only (the opaque contexts,
handles and mappings stay declarations), and abidiff compares that with
BASELINE, lib/abi/libhugepfn.abi. The rule (lib/README.md, "ABI"): every
symbol of the baseline is still exported at its version node, symbols
added since are in version nodes the baseline does not have, and abidiff
finds no change but those additions. Anything else fails, with abidiff's
report; a deliberate change (new fields taken from a struct's reserved
space, or a new soversion) is accepted by regenerating the baseline:
--update writes BASELINE from SHARED (lib/abi/update.sh does).

The check is skipped (1..0 # SKIP) without abigail-tools, on another
architecture than the baseline's, and when SHARED has no debug information
unless --debug-info-required (lib/meson.build passes it when the build asks
for debug information, so that a build that loses it fails instead).
tests/run.sh, which installs abigail-tools, counts a skip on x86_64 as a
failure.
"""
import os
import platform
import re
import shutil
import subprocess
import sys

from tap import Tap
import tempfile

args = sys.argv[1:]
update = "--update" in args
debug_info_required = "--debug-info-required" in args
args = [a for a in args if a not in ("--update", "--debug-info-required")]
baseline, headers, shared = args

# abidw's flags: the public types only, exported interfaces only, and
# nothing that depends on where the tree or the build directory is.
ABIDW = ["--headers-dir", headers, "--drop-private-types", "--exported-interfaces-only",
         "--drop-undefined-syms", "--no-corpus-path", "--no-comp-dir-path", "--no-show-locs",
         "--type-id-style", "hash"]


def skip(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(0)


def abidw(out):
    subprocess.run(["abidw", *ABIDW, "--out-file", out, shared], check=True)
    text = open(out).read()
    # Translation units by their path in the source tree, not from the build directory.
    text = re.sub(r"(<abi-instr [^>]*path=')(?:[^']*/)?(lib/[^'/]+')", r"\1\2", text)
    open(out, "w").write(text)
    return text


def symbols(text):
    """{name: version} of the defined ELF symbols of an abidw XML."""
    return {m.group(1): m.group(2) for m in
            re.finditer(r"<elf-symbol name='([^']+)'(?: version='([^']*)')?[^>]*is-defined='yes'", text)}


def arch(text):
    m = re.search(r"<abi-corpus [^>]*architecture='([^']*)'", text)
    return m and m.group(1)


for tool in ("abidw", "abidiff"):
    if not shutil.which(tool):
        if update:
            sys.exit(f"error: {tool} not found (Debian package abigail-tools)")
        skip(f"{tool} not found (Debian package abigail-tools)")
if b".debug_info" not in subprocess.run(["readelf", "-S", "-W", shared], capture_output=True).stdout:
    if update:
        sys.exit(f"error: {shared} has no debug information (build with -g, e.g. buildtype=debugoptimized)")
    if debug_info_required:
        print(f"not ok 1 - {shared} has debug information, as the build asks (abidw needs it)")
        print("# the build has debug=true, yet the library has no .debug_info: something drops -g "
              "(CFLAGS with -g0, or stripping)")
        print("1..1")
        sys.exit(1)
    skip(f"{shared} has no debug information")

if update:
    text = abidw(baseline)
    print(f"wrote {baseline}: {len(symbols(text))} symbols, architecture {arch(text)}")
    sys.exit(0)

with tempfile.TemporaryDirectory() as tmp:
    current = os.path.join(tmp, "current.abi")
    cur_text = abidw(current)
    base_text = open(baseline).read()
    if arch(base_text) != arch(cur_text):
        skip(f"the baseline is for {arch(base_text)}, this build for {arch(cur_text)} ({platform.machine()})")

    tap = Tap()
    result = tap.result

    base_syms, cur_syms = symbols(base_text), symbols(cur_text)
    gone = [f"{s}@{v}: {'not exported any more' if s not in cur_syms else 'now at ' + str(cur_syms[s])}"
            for s, v in sorted(base_syms.items()) if cur_syms.get(s, "-") != v]
    result(not gone, f"every symbol of the baseline ({len(base_syms)}) is still exported at its version node",
           gone + ["removing or moving a symbol needs a new soversion (lib/README.md, \"ABI\")"] * bool(gone))
    old_nodes = set(base_syms.values())
    added = {s: v for s, v in cur_syms.items() if s not in base_syms}
    misplaced = [f"{s}@{v or 'no version'}: {v or 'no version'} is a node of the baseline; a new function goes into a new node"
                 for s, v in sorted(added.items()) if v in old_nodes or not v]
    result(not misplaced, f"symbols added since the baseline ({len(added)}) are in new version nodes", misplaced)

    diff = subprocess.run(["abidiff", baseline, current], capture_output=True, text=True)
    report = (diff.stdout + diff.stderr).rstrip().splitlines()
    if diff.returncode == 0:
        result(True, "abidiff: no ABI change against the baseline")
    elif diff.returncode & 3:
        result(False, f"abidiff failed (exit status {diff.returncode})", report)
    else:
        only_added = (not diff.returncode & 8 and
                      subprocess.run(["abidiff", "--no-added-syms", baseline, current],
                                     capture_output=True).returncode == 0)
        kind = "an incompatible change" if diff.returncode & 8 else "a change"
        result(only_added, "abidiff: no change against the baseline but additions"
               if only_added else f"abidiff: no change against the baseline but additions; it found {kind}",
               report[:300] + (["An incompatible change needs a new soversion (lib/meson.build) and a new "
                                "baseline (lib/abi/update.sh): lib/README.md, \"ABI\""] if diff.returncode & 8 else
                               ["If the change is deliberate and compatible (fields taken from reserved space, "
                                "same sizes and offsets), regenerate the baseline: lib/abi/update.sh"]))
        if only_added:
            print("# additions since the baseline (fine; lib/abi/update.sh records them at a release):")
            for line in report:
                if line.strip():
                    print(f"#   {line}")
    tap.done()

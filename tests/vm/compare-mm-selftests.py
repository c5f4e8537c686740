#!/usr/bin/env python3
"""Compare the upstream mm selftests' results on the base kernel (the same
source and config without the series) and on the patched kernel.

Usage: tests/vm/compare-mm-selftests.py [--known FILE] BASE_TAP PATCHED_TAP

BASE_TAP and PATCHED_TAP are the tap.log files of the two VM runs of
t_mm_selftests (build/vm-logs/mm-base/tap.log, build/vm-logs/mm-patched/
tap.log), which carry one "# mm-result PROG<TAB>STATUS<TAB>DESC" line per
check (tests/vm/guest/t_mm_selftests.sh). Checks are paired by (program,
description with its numbers masked, occurrence). Prints TAP ("ok N - ..."
/ "not ok N - ...") with one line per check:

- not ok: the check passes on base and fails, is skipped, or is missing on
  the patched kernel (its program crashed, timed out or stopped reporting);
- ok: both agree (pass, or skip on both: "# SKIP");
- ok "# fails without the series too": fails on both kernels, the same way
  (a program's exit status: fail, timeout or crash), and is listed in the
  known-failures file with its reason; a failure on both that is not listed
  is "not ok", so that the list stays honest;
- not ok: a check the base run lacks (the comparison has nothing to stand
  on), and a program that produced no results on either kernel.

Exit status: 0 when nothing is "not ok", 1 otherwise, 2 on bad usage.
"""
import argparse
import fnmatch
import os
import re
import sys
from collections import OrderedDict, defaultdict

PASSING = ("pass", "xfail")
# Numbers in a description may differ between runs (pagemap_ioctl's
# "transact_test Extra pages 67 (0.1%), extra thread faults 69."): checks
# are paired with their numbers masked, in the order they ran (the same
# on both kernels), and shown with the base kernel's text.
NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?")
EXIT_DESC = "(exit status)"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_run(path):
    """(programs announced, {(prog, masked desc, n): (status, desc)},
    {prog: mm-exit line}, done)"""
    results = OrderedDict()
    seen = defaultdict(int)
    programs = []
    exits = {}
    done = False
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError as e:
        print(f"# cannot read {path}: {e}")
        return programs, results, exits, False
    for line in lines:
        line = line.rstrip("\r")
        if line.startswith("# mm-selftests: "):
            programs = line[len("# mm-selftests: "):].split()
        elif line.startswith("# mm-result "):
            parts = line[len("# mm-result "):].split("\t", 2)
            if len(parts) != 3:
                print(f"# {path}: malformed line: {line}")
                continue
            prog, status, desc = parts
            masked = NUMBER.sub("#", desc)
            n = seen[(prog, masked)]
            seen[(prog, masked)] += 1
            results[(prog, masked, n)] = (status, desc)
        elif line.startswith("# mm-exit "):
            prog = line[len("# mm-exit "):].split(":", 1)[0]
            exits[prog] = line[len("# mm-exit "):]
        elif line == "# mm-selftests-done":
            done = True
    return programs, results, exits, done


def read_known(path):
    """[(prog glob, desc glob, reason)] from 'PROG :: DESC :: REASON' lines."""
    known = []
    for i, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" :: ")]
        if len(parts) != 3 or not all(parts):
            sys.exit(f"{path}:{i}: want 'PROG :: DESC :: REASON', got: {line}")
        known.append(parts)
    return known


def name(key, desc):
    prog, _, n = key
    return f"{prog}: {desc}" + (f" [#{n + 1}]" if n else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--known", default=os.path.join(HERE, "mm-selftests-known-failures.txt"),
                    help="known pre-existing failures (default: %(default)s)")
    ap.add_argument("base")
    ap.add_argument("patched")
    args = ap.parse_args()

    known = read_known(args.known)
    used = set()
    bprogs, base, bexits, bdone = read_run(args.base)
    pprogs, patched, pexits, pdone = read_run(args.patched)
    out = []  # (ok, text)

    def fails_known(prog, desc):
        for i, (kp, kd, reason) in enumerate(known):
            if fnmatch.fnmatchcase(prog, kp) and fnmatch.fnmatchcase(desc, kd):
                used.add(i)
                return reason
        return None

    for path, done in ((args.base, bdone), (args.patched, pdone)):
        if not done:
            out.append((False, f"the run in {path} did not finish t_mm_selftests "
                               "(no '# mm-selftests-done' line: the VM crashed or timed out?)"))

    programs = list(OrderedDict.fromkeys(bprogs + pprogs +
                                         [k[0] for k in list(base) + list(patched)]))
    if not programs:
        out.append((False, "no mm selftest results in either run"))

    # A program's exit status failing on both kernels is explained by its
    # failing checks when it has some on both; otherwise it must be listed.
    def failing_checks(results, prog):
        return any(k[0] == prog and k[1] != EXIT_DESC and s not in PASSING + ("skip",)
                   for k, (s, _) in results.items())

    counts = defaultdict(int)
    both_fail = []
    for prog in programs:
        bkeys = [k for k in base if k[0] == prog]
        pkeys = [k for k in patched if k[0] == prog]
        bchecks = [k for k in bkeys if k[1] != EXIT_DESC]
        pchecks = [k for k in pkeys if k[1] != EXIT_DESC]
        silent = False
        for what, checks, exits, other in (("base", bchecks, bexits, pchecks),
                                           ("patched", pchecks, pexits, bchecks)):
            if not checks:
                # one line for the program rather than one per check
                silent = True
                out.append((False, f"{prog}: no results on the {what} kernel"
                                   + (f" ({exits[prog]})" if prog in exits else "")
                                   + (f"; {len(other)} on the other" if other else "")))
        if silent:
            counts["program without results"] += 1
            continue
        for key in list(OrderedDict.fromkeys(bkeys + pkeys)):
            bv, pv = base.get(key), patched.get(key)
            b, p = bv and bv[0], pv and pv[0]
            desc = (bv or pv)[1]
            n = name(key, desc)
            if b is None:
                counts["missing on base"] += 1
                out.append((False, f"{n}: not reported on the base kernel (patched: {p}), nothing to compare with"))
            elif b in PASSING:
                if p in PASSING:
                    counts["pass"] += 1
                    out.append((True, n))
                else:
                    counts["regression"] += 1
                    why = "missing (crash, timeout or stopped reporting)" if p is None else p
                    out.append((False, f"{n}: passes without the series, {why} with it"))
            elif b == "skip":
                if p == "skip":
                    counts["skip"] += 1
                    out.append((True, f"{n} # SKIP on both kernels"))
                elif p in PASSING:
                    counts["pass"] += 1
                    out.append((True, f"{n} (skipped without the series, passes with it)"))
                else:
                    counts["regression"] += 1
                    out.append((False, f"{n}: skipped without the series, {p or 'missing'} with it"))
            else:  # fails, times out or crashes on base
                if p in PASSING:
                    counts["fixed"] += 1
                    out.append((True, f"{n} (fails without the series ({b}), passes with it)"))
                    continue
                if p is None:
                    counts["regression"] += 1
                    out.append((False, f"{n}: fails without the series ({b}), missing with it"))
                    continue
                if p != b and p != "skip":
                    # e.g. exit status 1 on base, a crash or a timeout with the series
                    counts["regression"] += 1
                    out.append((False, f"{n}: fails differently with the series ({p}) than without ({b})"))
                    continue
                reason = fails_known(prog, desc)
                if reason is None and key[1] == EXIT_DESC and \
                        failing_checks(base, prog) and failing_checks(patched, prog):
                    reason = "its failing checks are listed above"
                if reason is None:
                    counts["unlisted both-fail"] += 1
                    out.append((False, f"{n}: fails on both kernels (base: {b}, patched: {p}) "
                                       f"and is not in {os.path.relpath(args.known)}"))
                else:
                    counts["known failure"] += 1
                    both_fail.append((n, b, p, reason))
                    out.append((True, f"{n} # fails without the series too ({reason})"))

    for i, (kp, kd, reason) in enumerate(known):
        if i not in used:
            print(f"# note: known failure '{kp} :: {kd}' did not fail on both kernels this time")
    for i, (ok, text) in enumerate(out, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - [mm-selftests] {text}")
    print(f"# mm selftests, base vs. patched: {len(programs)} programs; "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    if both_fail:
        print(f"# {len(both_fail)} check(s) fail without the series too:")
        for n, b, p, reason in both_fail:
            print(f"#   {n} (base: {b}, patched: {p}): {reason}")
    return 0 if all(ok for ok, _ in out) else 1


if __name__ == "__main__":
    sys.exit(main())

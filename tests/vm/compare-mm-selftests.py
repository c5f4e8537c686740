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
  pass and xfail (an expected failure, e.g. mremap_test's refused moves)
  must not trade places: either way the kernel behaves differently;
- ok: both agree (pass, or skip on both: "# SKIP");
- ok "# fails without the series too": fails on both kernels, the same way
  (a program's exit status: fail, timeout or crash), and is listed in the
  known-failures file with its reason; a failure on both that is not listed
  is "not ok", so that the list stays honest; a program whose exit status
  fails on both is "not ok" when it bails out ("Bail out! ..." in its
  "# mm-log" lines) with another message with the series;
- not ok: a check the base run lacks (the comparison has nothing to stand
  on), and a program that produced no results on either kernel;
- not ok: runs that cannot be compared: BASE_TAP not from the base kernel or
  PATCHED_TAP not from the patched one (their "# kernel RELEASE (KIND)"
  line: swapped arguments would turn every regression into a fix), or a
  program run with other arguments or another time limit on the two.

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


KERNEL = re.compile(r"# kernel \S+ \((\w+)\)")
LIMIT = re.compile(r"\(limit (\d+)s\)")


class Run:
    """One tap.log: programs (as announced), results {(prog, masked desc,
    n): (status, desc)}, exits {prog: mm-exit line}, done, kind (the kernel
    the guest says it ran on), commands {prog: mm-run command}, limits
    {prog: seconds}, bails {prog: [masked 'Bail out!' lines]}."""

    def __init__(self):
        self.programs, self.results, self.exits, self.done = [], OrderedDict(), {}, False
        self.kind, self.commands, self.limits, self.bails = None, {}, {}, defaultdict(list)


def read_run(path):
    run = Run()
    results = run.results
    seen = defaultdict(int)
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError as e:
        print(f"# cannot read {path}: {e}")
        return run
    for line in lines:
        line = line.rstrip("\r")
        m = KERNEL.match(line)
        if m and run.kind is None:
            run.kind = m.group(1)
        elif line.startswith("# mm-selftests: "):
            run.programs = line[len("# mm-selftests: "):].split()
        elif line.startswith("# mm-run "):
            prog, _, cmd = line[len("# mm-run "):].partition(": ")
            run.commands[prog] = cmd.strip()
        elif line.startswith("# mm-log "):
            prog, _, text = line[len("# mm-log "):].partition(": ")
            if text.startswith("Bail out!"):
                run.bails[prog].append(NUMBER.sub("#", text.strip()))
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
            run.exits[prog] = line[len("# mm-exit "):]
            m = LIMIT.search(line)
            if m:
                run.limits[prog] = int(m.group(1))
        elif line == "# mm-selftests-done":
            run.done = True
    return run


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
    brun, prun = read_run(args.base), read_run(args.patched)
    bprogs, base, bexits, bdone = brun.programs, brun.results, brun.exits, brun.done
    pprogs, patched, pexits, pdone = prun.programs, prun.results, prun.exits, prun.done
    out = []  # (ok, text)
    notes = []

    def fails_known(prog, desc):
        for i, (kp, kd, reason) in enumerate(known):
            if fnmatch.fnmatchcase(prog, kp) and fnmatch.fnmatchcase(desc, kd):
                used.add(i)
                return reason
        return None

    for path, run, kind in ((args.base, brun, "base"), (args.patched, prun, "patched")):
        if not run.done:
            out.append((False, f"the run in {path} did not finish t_mm_selftests "
                               "(no '# mm-selftests-done' line: the VM crashed or timed out?)"))
        if run.kind != kind and (run.done or run.results):
            said = f"says '({run.kind})'" if run.kind else "has no '# kernel RELEASE (KIND)' line"
            out.append((False, f"{path} should be a run on the {kind} kernel, but it {said}: "
                               "nothing to compare"))

    programs = list(OrderedDict.fromkeys(bprogs + pprogs +
                                         [k[0] for k in list(base) + list(patched)]))
    if not programs:
        out.append((False, "no mm selftest results in either run"))

    # A program's exit status failing on both kernels is explained by its
    # failing checks when it has some on both; otherwise it must be listed.
    def failing_checks(results, prog):
        return any(k[0] == prog and k[1] != EXIT_DESC and s not in PASSING + ("skip",)
                   for k, (s, _) in results.items())

    # The same programs, run the same way on both kernels.
    for prog in programs:
        for what, bv, pv in (("command", brun.commands.get(prog), prun.commands.get(prog)),
                             ("time limit", brun.limits.get(prog), prun.limits.get(prog))):
            if bv is not None and pv is not None and bv != pv:
                out.append((False, f"{prog}: ran with another {what} with the series ({pv!r}) "
                                   f"than without ({bv!r}): nothing to compare"))

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
            if bv and pv and bv[1] != pv[1]:
                # paired with their numbers masked, in the order they ran
                notes.append(f"{n}: with the series: '{pv[1]}'")
            if b is None:
                counts["missing on base"] += 1
                out.append((False, f"{n}: not reported on the base kernel (patched: {p}), nothing to compare with"))
            elif b in PASSING:
                if p == b:
                    counts["pass"] += 1
                    out.append((True, n))
                elif p in PASSING:
                    # pass <-> xfail: the operation succeeds on one kernel
                    # and fails (as the test allows) on the other
                    counts["regression"] += 1
                    out.append((False, f"{n}: {b} without the series, {p} with it: the kernel behaves differently"))
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
                if key[1] == EXIT_DESC and p == b and brun.bails.get(prog) != prun.bails.get(prog):
                    counts["regression"] += 1
                    bb = "; ".join(brun.bails.get(prog, [])) or "no 'Bail out!'"
                    pb = "; ".join(prun.bails.get(prog, [])) or "no 'Bail out!'"
                    out.append((False, f"{n}: fails ({p}) on both kernels, but differently: "
                                       f"'{pb}' with the series, '{bb}' without"))
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

    for text in notes:
        print(f"# note: paired by position, numbers masked: {text}")
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

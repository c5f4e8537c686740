#!/usr/bin/env python3
"""Unit tests of tests/vm/compare-mm-selftests.py, the judge of the upstream
mm selftests stage (base kernel vs. patched kernel), on canned tap.log
contents as tests/vm/guest/t_mm_selftests.sh and init.sh write them. Runs
the script as the stage does (a subprocess: its exit status counts). TAP
output."""
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "vm", "compare-mm-selftests.py")
TMPDIR = tempfile.TemporaryDirectory(prefix="hpfn-compare-mm-")
TMP = TMPDIR.name

results = []


def check(cond, desc):
    results.append((bool(cond), desc))


def tap_log(kind, checks, exits=None, done=True, header=True, bails=None, cmds=None, limits=None):
    """A tap.log of one t_mm_selftests run. checks: [(prog, status, desc)]
    in the order they ran; exits: {prog: exit status result} (default pass);
    bails: {prog: 'Bail out! ...'} (an mm-log line); cmds/limits: {prog: ...}
    (default: the program's name, 30 s)."""
    exits, bails, cmds, limits = exits or {}, bails or {}, cmds or {}, limits or {}
    progs = list(dict.fromkeys([c[0] for c in checks] + list(exits)))
    out = []
    if header:
        features = "remap-pmd,remap-pud" if kind == "patched" else ""
        out.append(f"# kernel 6.12.117-hugepfn+ ({kind}), 4 CPUs, features: {features}")
    out += ["# hpfn-begin t_mm_selftests", "# mm-selftests: " + " ".join(progs)]
    for prog in progs:
        out.append(f"# mm-run {prog}: {cmds.get(prog, prog + ' ')}")
        for p, status, desc in checks:
            if p == prog:
                out.append(f"# mm-result {prog}\t{status}\t{desc}")
        st = exits.get(prog, "pass")
        if st == "absent":  # the run stopped inside this program
            break
        out.append(f"# mm-result {prog}\t{st}\t(exit status)")
        out.append(f"# mm-exit {prog}: {st}, exit status 0 after 1s (limit {limits.get(prog, 30)}s); "
                   "checks: 1 passed, 0 failed, 0 skipped")
        if prog in bails:
            out.append(f"# mm-log {prog}: ok 1 something")
            out.append(f"# mm-log {prog}: {bails[prog]}")
    if done:
        out += ["# mm-selftests-done",
                "ok - t_mm_selftests: ran the upstream mm selftests", "1..1",
                "# t_mm_selftests took 12.5s", "# hpfn-end t_mm_selftests 0", "# hpfn-done"]
    return "\n".join(out) + "\n"


_n = 0


def write(text, name=None):
    global _n
    _n += 1
    path = os.path.join(TMP, name or f"tap{_n}.log")
    with open(path, "w") as f:
        f.write(text)
    return path


KNOWN = write("# test list\n"
              "split :: (exit status) :: stops on purpose\n"
              "oldbug :: broken * thing :: fails on 6.12 too\n", "known.txt")
NO_KNOWN = write("# nothing\n", "none.txt")


def compare(base, patched, known=KNOWN, files=False):
    """(exit status, stdout lines) of the script on two tap.log texts (or
    paths, with files=True)."""
    if not files:
        base, patched = write(base), write(patched)
    r = subprocess.run([sys.executable, "-B", SCRIPT, "--known", known, base, patched],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout.splitlines()


def not_ok(lines):
    return [l for l in lines if l.startswith("not ok")]


def ok(lines):
    return [l for l in lines if l.startswith("ok")]


def fails_with(rc, lines, *words):
    """Exit status 1, and one 'not ok' line holds all the words."""
    return rc == 1 and any(all(w in l for w in words) for l in not_ok(lines))


GOOD = [("mremap_test", "pass", "mremap - Source 1MB-aligned"),
        ("mremap_test", "xfail", "mremap - Source and Destination Regions Overlapping"),
        ("cow", "pass", "Basic COW ... with PTE-mapped THP (16 kB) :: No leak from parent into child"),
        ("cow", "pass", "Basic COW ... with PTE-mapped THP (2048 kB) :: No leak from parent into child"),
        ("cow", "skip", "Basic COW ... with swapped-out THP (16 kB) :: MADV_PAGEOUT did not work"),
        ("uffd-minor", "pass", "minor on shmem")]


def with_status(checks, part, status):
    """The checks, those whose 'PROG: DESC' holds part with another status."""
    return [(p, status if part in f"{p}: {d}" else s, d) for p, s, d in checks]


def without(checks, part):
    return [(p, s, d) for p, s, d in checks if part not in f"{p}: {d}"]


# --- agreement --------------------------------------------------------------
rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD))
check(rc == 0 and not not_ok(out), "identical results on both kernels pass")
check(len(ok(out)) == len(GOOD) + 3, "one line per check and per program's exit status")
check(sum("# SKIP" in l for l in ok(out)) == 1, "a check skipped on both kernels is marked SKIP")
check(all(l.split(" - ", 1)[0] == f"ok {i}" for i, l in enumerate(ok(out), 1)), "results are numbered from 1")

varying = [("pagemap_ioctl", "pass", "transact_test Extra pages 94 (0.2%), extra thread faults 101."),
           ("mrelease_test", "pass", "Success reaping a child with 2MB of memory allocations")]
rc, out = compare(tap_log("base", varying),
                  tap_log("patched", [("pagemap_ioctl", "pass", "transact_test Extra pages 143 (0.3%), extra thread faults 156."),
                                      ("mrelease_test", "pass", "Success reaping a child with 1MB of memory allocations")]))
check(rc == 0 and not not_ok(out), "numbers that vary from run to run do not break the pairing")

checks = GOOD + [("cow", "skip", "Basic COW ... with hugetlb (2048 kB) :: need more free huge pages")]
rc, out = compare(tap_log("base", checks), tap_log("patched", with_status(checks, "hugetlb", "pass")))
check(rc == 0 and not not_ok(out), "a check skipped on base and passing with the series is fine")

rc, out = compare(tap_log("base", with_status(GOOD, "uffd", "fail")), tap_log("patched", GOOD),
                  known=NO_KNOWN)
check(rc == 0 and any("passes with it" in l for l in ok(out)), "a check failing on base and passing with the series is fine")

# --- regressions --------------------------------------------------------------
rc, out = compare(tap_log("base", GOOD), tap_log("patched", with_status(GOOD, "uffd", "fail")))
check(fails_with(rc, out, "uffd-minor: minor on shmem", "passes without the series, fail with it"),
      "pass on base, fail on patched fails the run")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", with_status(GOOD, "(2048 kB)", "fail")))
check(fails_with(rc, out, "(2048 kB)", "fail with it") and len(not_ok(out)) == 1,
      "checks alike but for their numbers are paired in order: the failing one is named")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", without(GOOD, "Source 1MB")))
check(fails_with(rc, out, "mremap - Source 1MB-aligned", "missing"), "pass on base, missing on patched fails the run")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", with_status(GOOD, "uffd", "skip")))
check(fails_with(rc, out, "minor on shmem", "skip with it"), "pass on base, skip on patched fails the run")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", with_status(GOOD, "Source 1MB", "xfail")))
check(fails_with(rc, out, "mremap - Source 1MB-aligned", "xfail"),
      "pass on base, xfail (an expected failure) on patched fails the run")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", with_status(GOOD, "Overlapping", "pass")))
check(fails_with(rc, out, "Overlapping", "pass"),
      "xfail on base (mremap refused), pass on patched (accepted) fails the run")

rc, out = compare(tap_log("base", with_status(GOOD, "uffd", "skip")), tap_log("patched", without(GOOD, "uffd")))
check(rc == 1 and not_ok(out), "skip on base, missing on patched fails the run")

crashed = without(GOOD, "(2048 kB)")
crashed = [c for c in crashed if not (c[0] == "cow" and "swapped" in c[2])]
rc, out = compare(tap_log("base", GOOD), tap_log("patched", crashed, exits={"cow": "crash"}))
check(fails_with(rc, out, "cow: (exit status)", "crash with it"), "a program crashing on patched only fails the run")
check(fails_with(rc, out, "(2048 kB)", "missing"), "... and the checks it did not reach are missing")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD, exits={"uffd-minor": "timeout"}))
check(fails_with(rc, out, "uffd-minor: (exit status)", "timeout with it"),
      "a program timing out on patched only fails the run, even when all its checks passed")

rc, out = compare(tap_log("base", GOOD),
                  tap_log("patched", GOOD[:3], exits={"cow": "absent"}, done=False))
check(fails_with(rc, out, "did not finish"), "a patched run without its mm-selftests-done line fails")
check(fails_with(rc, out, "uffd-minor: no results on the patched kernel"),
      "a program the patched run never reached fails")

rc, out = compare(tap_log("base", GOOD),
                  tap_log("patched", GOOD + [("uffd-minor", "pass", "minor-wp on shmem")]))
check(fails_with(rc, out, "minor-wp on shmem", "not reported on the base kernel"),
      "a check the base run lacks fails (nothing to compare it with)")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", without(GOOD, "uffd"), exits={"uffd-minor": "pass"}))
check(fails_with(rc, out, "uffd-minor: no results on the patched kernel"),
      "a program that reports no checks on patched fails, even with exit status 0")

# --- failures on both kernels -------------------------------------------------
both = GOOD + [("oldbug", "fail", "broken mm thing")]
rc, out = compare(tap_log("base", both, exits={"oldbug": "fail"}), tap_log("patched", both, exits={"oldbug": "fail"}))
check(rc == 0 and any("oldbug: broken mm thing # fails without the series too (fails on 6.12 too)" in l
                      for l in ok(out)), "a failure on both kernels listed as known passes, with its reason")
check(any("oldbug: (exit status) # fails without the series too" in l for l in ok(out)),
      "... and so does its program's exit status, explained by its failing checks")

rc, out = compare(tap_log("base", both, exits={"oldbug": "fail"}), tap_log("patched", both, exits={"oldbug": "fail"}),
                  known=NO_KNOWN)
check(fails_with(rc, out, "oldbug: broken mm thing", "not in"), "a failure on both kernels that is not listed fails")

rc, out = compare(tap_log("base", GOOD, exits={"split": "fail"}), tap_log("patched", GOOD, exits={"split": "fail"}))
check(rc == 1 and fails_with(rc, out, "split: no results"), "a program without checks fails even when listed")

sp = GOOD + [("split", "pass", "Split huge pages successful")]
bail = {"split": "Bail out! Failed to create a file at /tmp/mm-ro/test"}
rc, out = compare(tap_log("base", sp, exits={"split": "fail"}, bails=bail),
                  tap_log("patched", sp, exits={"split": "fail"}, bails=bail))
check(rc == 0 and any("split: (exit status) # fails without the series too (stops on purpose)" in l
                      for l in ok(out)), "a listed exit-status failure on both kernels passes")

rc, out = compare(tap_log("base", sp, exits={"split": "fail"}, bails=bail),
                  tap_log("patched", sp, exits={"split": "fail"},
                          bails={"split": "Bail out! Unexpected order of THP split"}))
check(fails_with(rc, out, "split: (exit status)", "Unexpected order"),
      "a listed failure that bails out for another reason with the series fails")

rc, out = compare(tap_log("base", sp, exits={"split": "fail"}), tap_log("patched", sp, exits={"split": "crash"}))
check(fails_with(rc, out, "split: (exit status)", "fails differently"),
      "exit status 1 on base, a crash with the series fails even when listed")

# --- the runs themselves ------------------------------------------------------
rc, out = compare(tap_log("base", GOOD), "")
check(fails_with(rc, out, "did not finish") and fails_with(rc, out, "no results on the patched kernel"),
      "an empty patched tap.log fails")

rc, out = compare(write(tap_log("base", GOOD)), os.path.join(TMP, "no-such-tap.log"), files=True)
check(fails_with(rc, out, "no-such-tap.log") and any("cannot read" in l for l in out), "a missing patched tap.log fails")

rc, out = compare(os.path.join(TMP, "no-such-tap.log"), os.path.join(TMP, "no-such-either.log"), files=True)
check(fails_with(rc, out, "no mm selftest results"), "two missing tap.logs fail")

rc, out = compare(tap_log("patched", with_status(GOOD, "uffd", "fail")),
                  tap_log("base", GOOD))
check(rc == 1 and fails_with(rc, out, "base kernel"),
      "swapped arguments (a regression would read as a fix) fail")

same = write(tap_log("base", GOOD))
rc, out = compare(same, same, files=True)
check(rc == 1 and not_ok(out), "a base run compared with itself fails")

rc, out = compare(tap_log("base", GOOD, header=False), tap_log("patched", GOOD, header=False))
check(rc == 1 and not_ok(out), "runs that do not say which kernel they ran on fail")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD, cmds={"uffd-minor": "uffd-unit-tests -f minor-wp"}))
check(fails_with(rc, out, "uffd-minor", "uffd-unit-tests -f minor-wp"),
      "a program run with other arguments on the two kernels fails")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD, limits={"cow": 300}))
check(fails_with(rc, out, "cow", "limit"), "a program run under another time limit on the two kernels fails")

rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD).replace("\tpass\tminor on shmem", " pass minor"))
check(rc == 1 and not_ok(out), "a malformed result line does not count as a result")

bad_known = write("cow :: only two fields\n", "bad-known.txt")
rc, out = compare(tap_log("base", GOOD), tap_log("patched", GOOD), known=bad_known)
check(rc not in (0, None), "a malformed known-failures file is an error")

for n, (good, desc) in enumerate(results, 1):
    print(f"{'ok' if good else 'not ok'} {n} - {desc}")
print(f"1..{len(results)}")
TMPDIR.cleanup()
sys.exit(0 if all(good for good, _ in results) else 1)

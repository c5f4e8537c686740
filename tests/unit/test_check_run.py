#!/usr/bin/env python3
"""Unit tests of tests/vm/check-run.py, the judge of every VM run, on
canned guest TAP and kernel-log lines as 6.12 prints them. TAP output."""
import importlib.util
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "check_run", os.path.join(HERE, "..", "vm", "check-run.py"))
check_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_run)

results = []


def check(cond, desc):
    results.append((bool(cond), desc))


def judge(body, tests, kernel="patched", arch="x86_64", skips=(), linux="6.12"):
    lines = body.strip("\n").splitlines() + ["# hpfn-done"]
    return check_run.judge_tap(lines, tests, kernel, arch, "run", list(skips), linux)


def failures(out):
    return [l for l in out if l.startswith("not ok")]


GOOD = """
# hpfn-begin t_a
ok - t_a: first
ok - t_a: second
1..2
# hpfn-end t_a 0
"""

# --- the guest's TAP ------------------------------------------------------
out, p, f, s = judge(GOOD, ["t_a"])
check(p == 2 and f == 0 and s == 0 and not failures(out), "a program with a matching plan passes")
check(out[0].startswith("ok 1 - [run] t_a: first"), "results are numbered and named by run and program")

out, p, f, s = judge(GOOD.replace("1..2\n", ""), ["t_a"])
check(f == 1 and "printed no TAP plan" in failures(out)[0], "a missing plan fails the program")

out, p, f, s = judge(GOOD.replace("1..2", "1..3"), ["t_a"])
check(f == 1 and "plan says 3 results, it printed 2" in failures(out)[0], "a plan that disagrees with the results fails")

out, p, f, s = judge("# hpfn-begin t_a\n1..0\n# hpfn-end t_a 0\n", ["t_a"])
check(f == 1 and "printed no test results" in failures(out)[0], "an empty output fails even with exit status 0")

out, p, f, s = judge(GOOD.replace("1..2\n", "1..2\n1..2\n"), ["t_a"])
check(f == 1 and "2 plans" in failures(out)[0], "two plans fail")

out, p, f, s = judge(GOOD, ["t_a", "t_b"])
check(f == 1 and "t_b: never ran" in failures(out)[0], "a requested program that never ran fails")

out, p, f, s = judge(GOOD.replace("# hpfn-end t_a 0\n", ""), ["t_a"])
check(f == 1 and "did not finish" in failures(out)[0], "a program without its end marker fails")

out, p, f, s = check_run.judge_tap(GOOD.strip().splitlines(), ["t_a"], "patched", "x86_64", "run", [])
check(f == 1 and "did not reach the end" in failures(out)[0], "a guest without '# hpfn-done' fails")

SKIP = """
# hpfn-begin t_a
ok - t_a: # SKIP no widget on this kernel
1..1
# hpfn-end t_a 0
"""
out, p, f, s = judge(SKIP, ["t_a"])
check(f == 1 and s == 0 and "unexpected skip" in failures(out)[0] and "# SKIP" not in failures(out)[0],
      "a skip that no list allows fails, as a failure (no SKIP directive left in it)")
out, p, f, s = judge(SKIP.replace("# SKIP", "# skip"), ["t_a"])
check(f == 1 and "unexpected skip" in failures(out)[0], "a lower-case skip directive is a skip too")

with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as tmp:
    tmp.write("# comment\nstock | x86_64 | t_a | no widget | the stock kernel has none\n")
allowed = check_run.read_skips(tmp.name)
out, p, f, s = judge(SKIP, ["t_a"], kernel="stock", skips=allowed)
check(f == 0 and s == 1 and p == 0, "a listed skip passes on the kernel and architecture it names")
out, p, f, s = judge(SKIP, ["t_a"], kernel="patched", skips=allowed)
check(f == 1, "the same skip fails on another kernel")
out, p, f, s = judge(SKIP, ["t_a"], kernel="stock", arch="arm64", skips=allowed)
check(f == 1, "the same skip fails on another architecture")
out, p, f, s = judge(SKIP, ["t_a"], kernel="stock", skips=allowed, linux="7.3")
check(f == 0 and s == 1, "a skip listed for a kernel kind passes on every Linux version")
with open(tmp.name, "w") as versioned:
    versioned.write("stock@7.3 | x86_64 | t_a | no widget | 7.3's stock kernel has none\n")
allowed = check_run.read_skips(tmp.name)
out, p, f, s = judge(SKIP, ["t_a"], kernel="stock", skips=allowed, linux="7.3")
check(f == 0 and s == 1, "a skip listed for KIND@VERSION passes on that version")
out, p, f, s = judge(SKIP, ["t_a"], kernel="stock", skips=allowed)
check(f == 1, "a skip listed for KIND@VERSION fails on another version")
with open(tmp.name, "w") as bad:
    bad.write("stock | x86_64 | t_a | no widget\n")
try:
    check_run.read_skips(tmp.name)
    check(False, "a skip-list line without a reason is refused")
except SystemExit as e:
    check("WHY" in str(e), "a skip-list line without a reason is refused")
os.unlink(tmp.name)

# The checked-in list: the series' kselftest may skip on the stock kernel;
# on a patched one of either version a missing binary (a broken build)
# fails.
real = check_run.read_skips(os.path.join(HERE, "..", "vm", "expected-skips.list"))
KS = """
# hpfn-begin t_kselftest_remap
ok - t_kselftest_remap: # SKIP no /hpfn/bin/remap_pfn_pmd: the series' kselftest is built only for a patched kernel whose series has it
1..1
# hpfn-end t_kselftest_remap 0
"""
out, p, f, s = judge(KS, ["t_kselftest_remap"], kernel="stock", skips=real)
check(f == 0 and s == 1, "expected-skips.list: the series' kselftest may skip on the stock kernel")
for arch in ("x86_64", "arm64"):
    out, p, f, s = judge(KS, ["t_kselftest_remap"], kernel="patched", arch=arch, skips=real, linux="7.3")
    check(f == 1, f"expected-skips.list: a missing kselftest binary fails on patched/{arch} (7.3)")
for kern, arch in (("patched", "x86_64"), ("patched", "arm64"), ("base", "x86_64")):
    out, p, f, s = judge(KS, ["t_kselftest_remap"], kernel=kern, arch=arch, skips=real)
    check(f == 1, f"expected-skips.list: a missing kselftest binary fails on {kern}/{arch} (6.12)")

out, p, f, s = judge(GOOD.replace("ok - t_a: second", "not ok 2 - t_a: second"), ["t_a"])
check(f == 1 and "unknown form" in failures(out)[0], "a numbered 'not ok 2 - ...' is a failure")
out, p, f, s = judge(GOOD.replace("ok - t_a: second", "not ok"), ["t_a"])
check(f == 1 and "unknown form" in failures(out)[0], "a bare 'not ok' is a failure")
out, p, f, s = judge(GOOD.replace("# hpfn-end t_a 0", "# hpfn-end t_a 3"), ["t_a"])
check(f == 1 and "exited with status 3" in failures(out)[0],
      "a program that exits non-zero with every check passed fails")
out, p, f, s = judge(GOOD + "# a diagnostic\n" + GOOD.replace("t_a", "t_b"), ["t_a", "t_b"])
numbers = [int(l.split()[1]) for l in out if l.startswith("ok")]
check(numbers == list(range(1, len(numbers) + 1)), "results are numbered 1..N without gaps")
try:
    check_run.judge_tap(["# hpfn-end", "# hpfn-done"], ["t_a"], "patched", "x86_64", "run", [])
    check(True, "a malformed end marker does not crash the judge")
except Exception as e:  # pylint: disable=broad-except
    check(False, f"a malformed end marker does not crash the judge ({e})")

out, p, f, s = judge(GOOD.replace("ok - t_a: second", "not ok - t_a: second"), ["t_a"])
check(f == 1 and p == 1 and "t_a: second" in failures(out)[0], "a failed check is reported once, by name")

# --- the kernel log ---------------------------------------------------------
# One line of each report as 6.12 prints it, and its class.
REPORTS = [
    ("[    3.1] WARNING: CPU: 1 PID: 95 at hpfn_provoke.c:27 provoke_warn+0x1/0x2", "warning"),
    ("[    3.1] kernel BUG at tests/vm/module/hpfn_provoke.c:33!", "bug"),
    ("[    3.1] BUG kmalloc-64 (Tainted: G        W ): Poison overwritten", "bug"),
    ("[    3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000", "oops"),
    ("[    1.1] Oops: invalid opcode: 0000 [#1] PREEMPT SMP", "oops"),
    ("[    3.1] WARNING: possible circular locking dependency detected", "lockdep"),
    ("[   25.1] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu-stall"),
    ("[   30.1] rcu: INFO: rcu_preempt self-detected stall on CPU", "rcu-stall"),
    ("[   40.1] INFO: rcu_tasks detected stalls on tasks:", "rcu-stall"),
    ("[   40.1] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: {", "rcu-stall"),
    ("[    3.1] UBSAN: array-index-out-of-bounds in tests/vm/module/hpfn_provoke.c:75:14", "ubsan"),
    ("[    3.1] BUG: KASAN: slab-use-after-free in provoke+0x1/0x2", "kasan"),
    ("[    3.1] KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]", "kasan"),
    ("[    3.1] BUG: KFENCE: use-after-free read in provoke_kfence+0x61/0xa0", "kfence"),
    ("[   10.1] INFO: task insmod:97 blocked for more than 2 seconds.", "hung-task"),
    ("[    9.1] watchdog: BUG: soft lockup - CPU#1 stuck for 3s! [insmod:98]", "soft-lockup"),
    ("[    3.1] BUG: sleeping function called from invalid context at mm/x.c:1", "atomic-sleep"),
    ("[    3.1] mm/pgtable-generic.c:54: bad pmd 00000000a1b2c3d4(80000001004002f7)", "page-table"),
    ("[    3.1] list_add corruption. prev->next should be next (ffff8880)", "list-corruption"),
    ("[    3.1] ** 12 printk messages dropped **", "log-loss"),
]
for line, cls in REPORTS:
    check(check_run.classify(line) == cls, f"kernel log: '{line.split('] ', 1)[1][:40]}' is class {cls}")
check(check_run.classify("[    0.0] Kernel command line: console=ttyS0 page_table_check=on") is None,
      "kernel log: the command line is never a report")
CLEAN = [
    "[    0.0] rcu: Hierarchical RCU implementation.",
    "[    0.1] kfence: initialized - using 2097152 bytes for 255 objects at 0x(ptrval)",
    "[    0.2] hung_task: boot",
    "[    0.3] watchdog: Enabled. Permanently consumes one hw-PMU counter.",
    "[    0.4] pci 0000:00:03.0: BAR 2 [mem 0x8000000000-0x807fffffff 64bit pref]",
]
check(not check_run.kernel_problems(CLEAN), "kernel log: ordinary boot lines are not problems")
ubsan, warning = dict((c, l) for l, c in REPORTS)["ubsan"], REPORTS[0][0]
marked = ["x", "hpfn-provoke: begin ubsan", ubsan, "hpfn-provoke: end ubsan", warning]
seg = check_run.between(marked, "hpfn-provoke: begin ubsan", "hpfn-provoke: end ubsan")
check([c for c, _ in check_run.kernel_problems(seg)] == ["ubsan"],
      "kernel log: --between keeps only the lines between the markers")

for n, (ok, desc) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {n} - {desc}")
print(f"1..{len(results)}")
sys.exit(0 if all(ok for ok, _ in results) else 1)

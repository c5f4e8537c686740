#!/usr/bin/env python3
"""Judge one test-VM run: the guest's TAP and the kernel's log.

  check-run.py tap --name NAME --kernel KIND [--linux VERSION] --arch ARCH
                   --tests T1,T2 [--skips FILE] TAP_LOG
      Prints the run's results as numbered TAP ("ok N - [NAME] PROG: ...")
      and a summary line; exits 1 when anything failed. Beyond the guest's
      own "not ok" lines, a program fails when it never ran, printed no
      result, printed no plan or a plan other than the number of results,
      did not end (no "# hpfn-end"), or skipped a check that FILE does not
      allow for this kernel (KIND, on Linux VERSION: default 6.12) and
      architecture.

  check-run.py kernel-log [--class CLASS] [--between BEGIN END] LOG
      Prints "CLASS<TAB>LINE" for every line of the kernel log that reports
      a problem, and exits 1 when there is one (of CLASS, when given).
      --between limits the search to the lines after the first line that
      contains BEGIN and before the next that contains END.

  check-run.py classes
      Lists the problem classes and their patterns.

The guest's TAP (tests/vm/guest/init.sh) frames each program with
"# hpfn-begin PROG" and "# hpfn-end PROG STATUS"; results read
"ok - PROG: DESC" or "not ok - PROG: DESC", plans "1..N".
"""
import argparse
import re
import sys

# Kernel-log problem classes, tried in this order (the first match names a
# line): the specific reports first, since most of them also say "BUG:" or
# "WARNING:".
PROBLEM_CLASSES = [
    ("kfence", r"BUG: KFENCE:"),
    ("kasan", r"KASAN:"),
    ("ubsan", r"UBSAN:"),
    ("soft-lockup", r"soft lockup|hard LOCKUP"),
    ("rcu-stall", r"detected (expedited )?stalls?\b|self-detected stall|RCU stall"),
    ("hung-task", r"INFO: task .* blocked for more than|blocked for more than [0-9]+ seconds"),
    ("lockdep", r"possible circular locking|possible recursive locking|inconsistent lock state|"
                r"DEBUG_LOCKS_WARN_ON|INFO: possible|INFO: trying to register|suspicious RCU usage|"
                r"bad unlock balance|held lock freed|lock held when returning to user space"),
    ("atomic-sleep", r"sleeping function called from invalid context|scheduling while atomic"),
    ("list-corruption", r"list_(add|del) corruption"),
    ("page-table", r"page_table_check|Bad rss-counter|Bad page|bad (pgd|p4d|pud|pmd|pte)\b|"
                   r"non-zero pgtables_bytes"),
    ("oops", r"Oops|general protection fault|Unable to handle kernel|"
             r"kernel NULL pointer dereference|Kernel panic|Internal error:"),
    ("bug", r"kernel BUG at|BUG:|BUG at|VM_BUG_ON|\] BUG \S+ \("),
    ("warning", r"WARNING:"),
    # Lines the console lost: the log was not read completely.
    ("log-loss", r"printk messages dropped"),
]
# The command line echoes what the harness was asked to pass (for example
# page_table_check=on): never a report.
NOT_A_REPORT = re.compile(r"(Kernel )?[Cc]ommand line:")
_CLASS_RES = [(name, re.compile(rx)) for name, rx in PROBLEM_CLASSES]


def classify(line):
    """The problem class of one kernel-log line, or None."""
    if NOT_A_REPORT.search(line):
        return None
    for name, rx in _CLASS_RES:
        if rx.search(line):
            return name
    return None


def kernel_problems(lines):
    """(class, line) for every problem line."""
    out = []
    for line in lines:
        cls = classify(line)
        if cls:
            out.append((cls, line))
    return out


def between(lines, begin, end):
    """The lines after the first containing BEGIN, up to one containing END."""
    out, inside = [], False
    for line in lines:
        if not inside:
            inside = begin in line
            continue
        if end in line:
            break
        out.append(line)
    return out


def read_skips(path):
    """Allowed skips: (kernel, arch, program, compiled regex) tuples. A
    kernel is KIND (patched, stock, base or *) on every Linux version, or
    KIND@VERSION (e.g. stock@7.3) on that version only."""
    allowed = []
    if not path:
        return allowed
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = [x.strip() for x in line.split("|")]
            if len(fields) != 5 or not all(fields):
                raise SystemExit(f"{path}:{n}: want 'KERNEL | ARCH | PROGRAM | REGEX | WHY'")
            try:
                rx = re.compile(fields[3])
            except re.error as e:
                raise SystemExit(f"{path}:{n}: bad regex: {e}") from e
            allowed.append((fields[0], fields[1], fields[2], rx))
    return allowed


def skip_allowed(allowed, kernel, arch, prog, text, linux="6.12"):
    for k, a, p, rx in allowed:
        kind, _, version = k.partition("@")
        if (kind in ("*", kernel) and version in ("", linux) and a in ("*", arch) and p == prog
                and rx.search(text)):
            return True
    return False


RESULT_RE = re.compile(r"^(ok|not ok) - (?:([\w.-]+): )?(.*)$")
# Any other line that starts like a failure is one, whatever its form.
FAILURE_RE = re.compile(r"^not ok\b")
SKIP_RE = re.compile(r"#\s*skip\b", re.I)
PLAN_RE = re.compile(r"^1\.\.(\d+)$")


class Program:
    def __init__(self, name):
        self.name = name
        self.results = 0
        self.plans = []
        self.ended = None
        self.failures = 0


def judge_tap(lines, tests, kernel, arch, name, allowed, linux="6.12"):
    """(tap_lines, passed, failed, skipped) of one run."""
    out, failures = [], []
    passed = failed = skipped = 0
    programs = {}
    current = None
    done = False
    number = 0

    def emit(ok, text):
        nonlocal number
        number += 1
        out.append(f"{'ok' if ok else 'not ok'} {number} - [{name}] {text}")

    for line in lines:
        fields = line.split()
        if line.startswith("# hpfn-begin ") and len(fields) >= 3:
            current = programs.setdefault(fields[2], Program(fields[2]))
            continue
        if line.startswith("# hpfn-end ") and len(fields) >= 3:
            if current and fields[2] == current.name:
                current.ended = fields[3] if len(fields) > 3 else "?"
            current = None
            continue
        if line.startswith("# hpfn-done"):
            done = True
            continue
        if line.startswith("#"):
            out.append(line)
            continue
        m = PLAN_RE.match(line)
        if m:
            if current:
                current.plans.append(int(m.group(1)))
            continue
        m = RESULT_RE.match(line)
        if not m:
            if FAILURE_RE.match(line):
                failed += 1
                emit(False, f"{current.name + ': ' if current else ''}a failure in an unknown form: {line}")
                if current:
                    current.results += 1
                    current.failures += 1
            continue
        ok, prog, text = m.group(1) == "ok", m.group(2) or "", m.group(3)
        if current and prog == current.name:
            current.results += 1
            current.failures += not ok
        if not ok:
            failed += 1
            emit(False, f"{prog}: {text}" if prog else text)
        elif SKIP_RE.search(text):
            if skip_allowed(allowed, kernel, arch, prog, text, linux):
                skipped += 1
                emit(True, f"{prog}: {text}")
            else:
                failed += 1
                reason = SKIP_RE.sub("skip:", text)
                emit(False, f"{prog}: unexpected skip (not in tests/vm/expected-skips.list "
                            f"for {kernel}@{linux}/{arch}): {reason}")
        else:
            passed += 1
            emit(True, f"{prog}: {text}")

    for t in tests:
        p = programs.get(t)
        if p is None:
            failures.append(f"{t}: never ran")
        elif p.ended is None:
            failures.append(f"{t}: did not finish (no end marker: the guest stopped inside it)")
        elif p.results == 0:
            failures.append(f"{t}: printed no test results (exit status {p.ended})")
        elif not p.plans:
            failures.append(f"{t}: printed no TAP plan: it stopped before its end "
                            f"({p.results} results, exit status {p.ended})")
        elif len(p.plans) > 1:
            failures.append(f"{t}: printed {len(p.plans)} plans")
        elif p.plans[0] != p.results:
            failures.append(f"{t}: its plan says {p.plans[0]} results, it printed {p.results}")
        elif p.ended != "0" and not p.failures:
            failures.append(f"{t}: exited with status {p.ended}")
    if not done:
        failures.append("the guest did not reach the end of its tests (no '# hpfn-done')")
    for f in failures:
        failed += 1
        emit(False, f)
    return out, passed, failed, skipped


def cmd_tap(args):
    with open(args.log, encoding="utf-8", errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    tests = [t for t in args.tests.split(",") if t]
    if len(set(tests)) != len(tests):
        raise SystemExit(f"--tests names a program twice: {args.tests}")
    out, passed, failed, skipped = judge_tap(lines, tests, args.kernel, args.arch, args.name,
                                             read_skips(args.skips), args.linux)
    for line in out:
        print(line)
    print(f"# [{args.name}] TAP: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def cmd_kernel_log(args):
    with open(args.log, encoding="utf-8", errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    if args.between:
        lines = between(lines, *args.between)
    found = [(c, l) for c, l in kernel_problems(lines) if not args.cls or c == args.cls]
    for c, l in found:
        print(f"{c}\t{l}")
    return 1 if found else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tap", help="judge the guest's TAP")
    t.add_argument("--name", required=True)
    t.add_argument("--kernel", required=True)
    t.add_argument("--linux", default="6.12")
    t.add_argument("--arch", required=True)
    t.add_argument("--tests", required=True)
    t.add_argument("--skips")
    t.add_argument("log")
    k = sub.add_parser("kernel-log", help="find problem reports in a kernel log")
    k.add_argument("--class", dest="cls", choices=[c for c, _ in PROBLEM_CLASSES])
    k.add_argument("--between", nargs=2, metavar=("BEGIN", "END"))
    k.add_argument("log")
    sub.add_parser("classes", help="list the problem classes")
    args = ap.parse_args()
    if args.cmd == "tap":
        return cmd_tap(args)
    if args.cmd == "kernel-log":
        return cmd_kernel_log(args)
    for c, rx in PROBLEM_CLASSES:
        print(f"{c}\t{rx}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

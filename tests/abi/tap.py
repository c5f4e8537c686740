# SPDX-License-Identifier: GPL-2.0
"""TAP for the ABI checks: one line a check, a failed check's details as
'# ' comments (and on stderr, where meson's log keeps them)."""
import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, what, details=()):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {what}")
        for d in details if not ok else ():
            for line in str(d).splitlines():
                print(f"# {line}")
            print(d, file=sys.stderr)
        self.failed += not ok
        return ok

    def done(self):
        """The plan line, and the exit status: 1 when a check failed."""
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compile lib/README.md's example as a user would and run it on bad input.

Usage: test_readme_example.py README CC [CFLAGS...] -- LIBS...

The ```c block under "## Example" is written to a temporary file, built
with CC CFLAGS file -o prog LIBS, and run: without arguments it must exit
2, with a malformed PCI address 1, naming the problem. Prints TAP.
"""
import os
import re
import subprocess
import sys
import tempfile


def example(readme):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^## Example\n.*?^```c\n(.*?)^```", text, re.S | re.M)
    return m.group(1) if m else None


def main():
    readme, rest = sys.argv[1], sys.argv[2:]
    split = rest.index("--")
    cc, libs = rest[:split], rest[split + 1:]
    code = example(readme)
    n = 0

    def check(cond, what):
        nonlocal n
        n += 1
        print(f"{'ok' if cond else 'not ok'} {n} - {what}")
        return cond

    if not check(code is not None, "lib/README.md has a C example under '## Example'"):
        print(f"1..{n}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        src, prog = os.path.join(tmp, "example.c"), os.path.join(tmp, "example")
        with open(src, "w", encoding="utf-8") as f:
            f.write(code)
        build = subprocess.run(cc + ["-Wall", "-Wextra", "-Werror", src, "-o", prog] + libs,
                               capture_output=True, text=True)
        if not check(build.returncode == 0, "the example compiles with -Wall -Wextra -Werror"):
            print("# " + build.stderr.replace("\n", "\n# "))
        else:
            r = subprocess.run([prog], capture_output=True, text=True)
            check(r.returncode == 2 and "usage" in r.stderr, f"without arguments it exits 2 ({r.returncode})")
            r = subprocess.run([prog, "0000:00:01.0x5"], capture_output=True, text=True)
            check(r.returncode == 1 and "Invalid argument" in r.stderr and "PCI address" in r.stderr,
                  f"a malformed address is refused with its reason ({r.returncode}: {r.stderr.strip()})")
    print(f"1..{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

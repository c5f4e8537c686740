#!/usr/bin/env python3
"""libhugepfn's pkg-config file as a user gets it, as TAP (the "pkgconfig" test).

Usage: check_pkgconfig.py PKG_CONFIG PC_DIR VERSION

PC_DIR holds the libhugepfn.pc Meson generates (meson-private/, the file
that gets installed). With PKG_CONFIG_PATH=PC_DIR: `pkg-config --cflags
--libs libhugepfn` must work and give -lhugepfn and the include directory
(and not libpci, which only the static library needs), and `--static
--libs` must add libpci (Requires.private: libpci, so libpci's own .pc, from
libpci-dev, must be there: lib/README.md, "Link") and -pthread.
"""
import os
import subprocess
import sys

from tap import Tap

pkg_config, pc_dir, version = sys.argv[1:4]
env = dict(os.environ)
env["PKG_CONFIG_PATH"] = os.pathsep.join([pc_dir] + [p for p in [env.get("PKG_CONFIG_PATH")] if p])
tap = Tap()
result = tap.result


def pc(*args):
    p = subprocess.run([pkg_config, *args, "libhugepfn"], env=env, capture_output=True, text=True)
    what = f"pkg-config {' '.join(args)} libhugepfn"
    result(p.returncode == 0, f"{what} works",
           [f"exit status {p.returncode}: {p.stderr.strip()}",
            "libhugepfn.pc has Requires.private: libpci, so pkg-config needs libpci.pc (libpci-dev)"])
    return p.stdout.split() if p.returncode == 0 else None


if not os.path.isfile(os.path.join(pc_dir, "libhugepfn.pc")):
    print(f"not ok 1 - {pc_dir}/libhugepfn.pc exists")
    print("1..1")
    sys.exit(1)

mv = pc("--modversion")
result(mv == [version], f"its version is the project's, {version}", [f"--modversion: {mv}"])
flags = pc("--cflags", "--libs")
if flags is not None:
    result("-lhugepfn" in flags, "--cflags --libs: -lhugepfn", [f"got: {' '.join(flags)}"])
    result(any(f.startswith("-I") and f.endswith("/include") for f in flags),
           "--cflags --libs: the include directory (-I.../include)", [f"got: {' '.join(flags)}"])
    result("-lpci" not in flags, "--cflags --libs: no -lpci (the shared library brings its own)",
           [f"got: {' '.join(flags)}"])
static = pc("--static", "--libs")
if static is not None:
    for want in ("-lhugepfn", "-lpci", "-pthread"):
        result(want in static, f"--static --libs: {want}", [f"got: {' '.join(static)}"])
    if "-lhugepfn" in static and "-lpci" in static:
        result(static.index("-lhugepfn") < static.index("-lpci"),
               "--static --libs: -lhugepfn before -lpci (static link order)", [f"got: {' '.join(static)}"])
tap.done()

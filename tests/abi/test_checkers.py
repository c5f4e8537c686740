#!/usr/bin/env python3
"""The ABI safety net's own tests, as TAP (the "abi_checkers" test).

Usage: test_checkers.py --header H --map M --shared SO --static A --nm NM
       --readelf READELF --objcopy OBJCOPY --ar AR --pkg-config PKG_CONFIG
       --pc-dir DIR -- CC...

Each checker of tests/abi/ and lib/static-archive.sh is given something
broken on purpose, built from the real header, map, libraries and .pc file,
and must refuse it: a function the header declares without HUGEPFN_API or
that the map does not list (check_exports.py), a macro renumbered or
removed (check_macros.py; an added one passes), an archive of LTO objects,
whose hidden symbols objcopy cannot make local (static-archive.sh; a plain
one comes out with only its public symbol global, and a 32-bit one links
with -m32 among the link arguments), and a .pc without libpci
(check_pkgconfig.py).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

from tap import Tap
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
ap = argparse.ArgumentParser()
for opt in ("header", "map", "shared", "static", "nm", "readelf", "objcopy", "ar", "pkg_config", "pc_dir"):
    ap.add_argument("--" + opt.replace("_", "-"), required=True)
ap.add_argument("cc", nargs="+")
a = ap.parse_args()
py = sys.executable
tap = Tap()
result = tap.result


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


header_text = open(a.header).read()
# The first HUGEPFN_API declaration: the mutated headers add theirs after it.
first_api = re.search(r"^HUGEPFN_API [^;]*;\n", header_text, re.M)
# The first HUGEPFN_* macro with a value.
first_macro = re.search(r"^#define (HUGEPFN_\w+)[ \t]+(\S[^\n]*)\n", header_text, re.M)
while first_macro and first_macro.group(1) == "HUGEPFN_API":
    first_macro = re.compile(r"^#define (HUGEPFN_\w+)[ \t]+(\S[^\n]*)\n", re.M).search(header_text, first_macro.end())


def header_with(tmp, name, old, new):
    return write(os.path.join(tmp, name), header_text.replace(old, new, 1))


with tempfile.TemporaryDirectory() as tmp:
    # check_exports.py
    exports = [py, os.path.join(here, "check_exports.py")]
    libs = [a.map, a.shared, a.static, a.nm, a.readelf]
    rc, out = run(*exports, a.header, *libs)
    result(rc == 0, "check_exports.py passes the real header", [out])
    h = header_with(tmp, "unmarked.h", first_api.group(0), first_api.group(0) + "int hugepfn_selftest_unmarked(void);\n")
    rc, out = run(*exports, h, *libs)
    result(rc != 0 and "declared without HUGEPFN_API (the shared library hides it): hugepfn_selftest_unmarked" in out,
           "check_exports.py fails a function declared without HUGEPFN_API", [f"exit status {rc}", out])
    h = header_with(tmp, "unlisted.h", first_api.group(0),
                    first_api.group(0) + "HUGEPFN_API int hugepfn_selftest_unlisted(\n\tint x);\n")
    rc, out = run(*exports, h, *libs)
    result(rc != 0 and "not in libhugepfn.map: hugepfn_selftest_unlisted" in out,
           "check_exports.py fails a HUGEPFN_API function that libhugepfn.map does not list", [f"exit status {rc}", out])

    # check_macros.py
    macros = [py, os.path.join(here, "check_macros.py")]
    base = os.path.join(tmp, "macros")
    rc, out = run(*macros, "--update", base, a.header, *a.cc)
    result(rc == 0, "check_macros.py --update writes a baseline from the real header", [out])
    rc, out = run(*macros, base, a.header, *a.cc)
    result(rc == 0, "check_macros.py passes the header against its own baseline", [out])
    name, value = first_macro.group(1), first_macro.group(2)
    line = first_macro.group(0)
    h = header_with(tmp, "renumbered.h", line, f"#define {name} ((unsigned long long)({value}) + 1000)\n")
    rc, out = run(*macros, base, h, *a.cc)
    result(rc != 0 and f"{name}: " in out and "now" in out, f"check_macros.py fails a renumbered macro ({name})",
           [f"exit status {rc}", out])
    h = header_with(tmp, "gone.h", line, "")
    rc, out = run(*macros, base, h, *a.cc)
    result(rc != 0 and f"{name} (was" in out, f"check_macros.py fails a removed macro ({name})",
           [f"exit status {rc}", out])
    h = header_with(tmp, "added.h", line, line + "#define HUGEPFN_SELFTEST_ADDED (1ull << 40)\n")
    rc, out = run(*macros, base, h, *a.cc)
    result(rc == 0 and "HUGEPFN_SELFTEST_ADDED 0x10000000000" in out,
           "check_macros.py passes an added macro, listed as an addition", [f"exit status {rc}", out])
    h = header_with(tmp, "spelled.h", line, f"#define {name} (0 + ({value}))\n")
    rc, out = run(*macros, base, h, *a.cc)
    result(rc == 0, "check_macros.py compares values, not their spelling", [f"exit status {rc}", out])

    # static-archive.sh
    src = write(os.path.join(tmp, "lib.c"),
                '__attribute__((visibility("hidden"))) int hpfn_selftest_inner(int x) { return x + 1; }\n'
                'int hugepfn_selftest_outer(int x) { return hpfn_selftest_inner(x); }\n')
    archive = [shutil.which("sh") or "/bin/sh", os.path.join(root, "lib", "static-archive.sh")]
    for kind, cflags in (("plain", ["-fno-lto"]), ("LTO", ["-flto"]), ("fat LTO", ["-flto", "-ffat-lto-objects"])):
        obj = os.path.join(tmp, "lib.o")
        rc, out = run(*a.cc, "-O2", "-fPIC", *cflags, "-c", "-o", obj, src)
        if rc:
            print(f"ok {n + 1} - static-archive.sh, {kind} objects # SKIP the compiler refuses {' '.join(cflags)}")
            n += 1
            continue
        inp, outp = os.path.join(tmp, "in.a"), os.path.join(tmp, "out.a")
        for f in (inp, outp):
            if os.path.exists(f):
                os.unlink(f)
        run(a.ar, "rcs", inp, obj)
        rc, out = run(*archive, outp, inp, a.objcopy, a.ar, a.readelf, *a.cc)
        if kind == "plain":
            rc2, syms = run(a.nm, "-g", "--defined-only", outp) if rc == 0 else (rc, out)
            glob = sorted(l.split()[-1] for l in syms.splitlines() if len(l.split()) == 3)
            result(rc == 0 and glob == ["hugepfn_selftest_outer"],
                   "static-archive.sh: a plain archive comes out with only its public function global",
                   [f"exit status {rc}", out, f"globals: {glob}"])
        else:
            result(rc != 0 and not os.path.exists(outp), f"static-archive.sh refuses {kind} objects",
                   [f"exit status {rc}", out])

    # The build's link arguments reach the partial link: 32-bit objects
    # need -m32 there (lib/meson.build passes c_link_args), where the
    # compiler can make them (x86).
    obj = os.path.join(tmp, "lib32.o")
    rc, out = run(*a.cc, "-m32", "-O2", "-fPIC", "-fno-lto", "-c", "-o", obj, src)
    if rc:
        print(f"ok {n + 1} - static-archive.sh, -m32 objects with -m32 # SKIP the compiler has no -m32")
        n += 1
    else:
        inp, outp = os.path.join(tmp, "in32.a"), os.path.join(tmp, "out32.a")
        run(a.ar, "rcs", inp, obj)
        rc, out = run(*archive, outp, inp, a.objcopy, a.ar, a.readelf, *a.cc, "-m32")
        rc2, hdr = run(a.readelf, "-h", outp) if rc == 0 else (rc, "")
        result(rc == 0 and "ELF32" in hdr, "static-archive.sh: -m32 objects, linked with the link arguments (-m32)",
               [f"exit status {rc}", out, hdr])

    # check_pkgconfig.py
    pcd = os.path.join(tmp, "pc")
    os.mkdir(pcd)
    pc = open(os.path.join(a.pc_dir, "libhugepfn.pc")).read()
    version = re.search(r"^Version: (\S+)", pc, re.M).group(1)
    write(os.path.join(pcd, "libhugepfn.pc"), re.sub(r"^Requires\.private:.*\n", "", pc, flags=re.M))
    rc, out = run(py, os.path.join(here, "check_pkgconfig.py"), a.pkg_config, pcd, version)
    result(rc != 0 and "not ok" in out and "-lpci" in out, "check_pkgconfig.py fails a .pc that lost libpci",
           [f"exit status {rc}", out])

tap.done()

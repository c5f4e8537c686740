#!/usr/bin/env python3
"""What libhugepfn exports, as TAP (the "exports" test of lib/meson.build).

Usage: check_exports.py HEADER MAP SHARED STATIC [NM READELF]

HEADER is include/hugepfn.h, MAP the version script libhugepfn.map,
SHARED libhugepfn.so.1 and STATIC the installed libhugepfn.a. Every
function the header declares (each hugepfn_NAME(...) at file scope) must
be HUGEPFN_API and have a version node in the map. The shared library must
export exactly those functions, each at the version node the map gives it
(HUGEPFN_1 for the first ones), and nothing else; the static archive must define exactly those functions as
global symbols (its internal hpfn_* ones made local by
lib/static-archive.sh); the soname must be libhugepfn.so.1.
"""
import re
import subprocess
import sys

from tap import Tap

header, vmap, shared, static = sys.argv[1:5]
nm = sys.argv[5] if len(sys.argv) > 5 else "nm"
readelf = sys.argv[6] if len(sys.argv) > 6 else "readelf"
SONAME = "libhugepfn.so.1"

tap = Tap()
result = tap.result


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# The API: every function the header declares, hugepfn_NAME(...) at file
# scope, which must be HUGEPFN_API (or the shared library hides it), and
# every HUGEPFN_API one.
text = re.sub(r"/\*.*?\*/", " ", open(header).read(), flags=re.S)
text = re.sub(r"//[^\n]*", " ", text)
text = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*$", " ", text, flags=re.M)
text = text.replace('extern "C" {', " ")
declared = {}  # name: whether its declaration says HUGEPFN_API
depth = 0
start = 0  # where the current file-scope declaration began
for m in re.finditer(r"[{};]|\bhugepfn_\w+(?=\s*\()", text):
    tok = m.group(0)
    if tok == "{":
        depth += 1
    elif tok == "}":
        depth = max(depth - 1, 0)
        if depth == 0:
            start = m.end()
    elif tok == ";":
        if depth == 0:
            start = m.end()
    elif depth == 0:
        api_kw = re.search(r"\bHUGEPFN_API\b", text[start:m.start()]) is not None
        declared[tok] = declared.get(tok, True) and api_kw
api = set(declared)
result(bool(api), f"hugepfn.h declares {len(api)} functions")
unmarked = sorted(s for s, marked in declared.items() if not marked)
result(not unmarked, "every function hugepfn.h declares is HUGEPFN_API",
       [f"declared without HUGEPFN_API (the shared library hides it): {s}" for s in unmarked])

# The version script: which node each symbol belongs to.
nodes = {}
node = None
for tok in re.findall(r"[\w*]+|[{};:]", re.sub(r"/\*.*?\*/", " ", open(vmap).read(), flags=re.S)):
    if node is None and re.fullmatch(r"HUGEPFN_\d+", tok):
        node = tok
    elif tok == "}":
        node = None
    elif node and tok not in ("global", "local", "{", ";", ":", "*") and tok.startswith("hugepfn_"):
        nodes[tok] = node

missing = sorted(api - nodes.keys())
extra = sorted(nodes.keys() - api)
result(not missing and not extra, "libhugepfn.map gives each function of hugepfn.h a version node, and lists nothing else",
       [f"not in libhugepfn.map: {s}" for s in missing] + [f"in libhugepfn.map, not in hugepfn.h: {s}" for s in extra])

# The shared library.
soname = re.findall(r"\(SONAME\)\s+Library soname: \[(.*)\]", run(readelf, "-d", shared))
result(soname == [SONAME], f"the shared library's soname is {SONAME}", [f"soname: {soname}"])

exported = {}
bad = []
for line in run(nm, "-D", "--defined-only", shared).splitlines():
    f = line.split()
    if len(f) < 3:
        continue
    kind, sym = f[1], f[2]
    if kind == "A" and re.fullmatch(r"HUGEPFN_\d+", sym):
        continue  # the version node's own symbol
    name, _, ver = sym.partition("@")
    ver = ver.lstrip("@")
    if not name.startswith("hugepfn_"):
        bad.append(f"exported, not hugepfn_*: {sym}")
    elif ver != nodes.get(name, "HUGEPFN_1"):
        bad.append(f"{sym}: version {ver or 'none'}, libhugepfn.map says {nodes.get(name, 'nothing')}")
    exported[name] = ver
result(not bad, "the shared library exports only hugepfn_* symbols, each at its libhugepfn.map node", bad)
missing = sorted(api - exported.keys())
extra = sorted(exported.keys() - api)
result(not missing and not extra, "the shared library exports every function of hugepfn.h and nothing else",
       [f"not exported: {s}" for s in missing] + [f"exported, not in hugepfn.h: {s}" for s in extra])

# The static archive.
defined = set()
bad = []
for line in run(nm, "-g", "--defined-only", static).splitlines():
    f = line.split()
    if len(f) < 3:
        continue
    sym = f[2]
    if not sym.startswith("hugepfn_"):
        bad.append(f"global, not hugepfn_*: {f[1]} {sym}")
    defined.add(sym)
result(not bad, f"libhugepfn.a defines only hugepfn_* globals ({len(defined)})", bad[:50] +
       ([f"... {len(bad) - 50} more"] if len(bad) > 50 else []))
missing = sorted(api - defined)
extra = sorted(defined - api)
result(not missing and not extra, "libhugepfn.a defines every function of hugepfn.h and no other global",
       [f"not defined: {s}" for s in missing] + [f"defined, not in hugepfn.h: {s}" for s in extra])

tap.done()

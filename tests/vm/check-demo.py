#!/usr/bin/env python3
"""Check what examples/demo.sh printed: the path and the page sizes of every
mapping it makes, on the patched or the stock kernel. Prints TAP.

  check-demo.py patched|stock DEMO_OUTPUT

The demo prints each tool command as "$ hugepfn ..." followed by its
indented output; a map's output names the path ("through hugepfn") and
ends with a table of runs whose last column is the page size.
"""
import re
import sys

# (command as the demo prints it, with BDF for the device's address;
#  path; page sizes of the runs, or an error text) per kernel.
EXPECTED = {
    "patched": [
        ("map BDF 2", "hugepfn", ["1G"]),
        ("map carveout:demo 0", "hugepfn", ["2M"]),
        ("map BDF 2 --length 64M --4k", "hugepfn", ["4K"]),
        ("map BDF 2 --length 64M --huge-required", "hugepfn", ["2M"]),
        ("map BDF 2 --length 256M", "vfio", ["2M"]),
        ("map BDF 2 --length 256M", "sysfs", ["2M"]),
    ],
    # Debian's kernel maps every remap with 4 KiB PTEs (the carveout),
    # hugepfn.ko fills BAR mappings there from ->huge_fault (1 GiB where
    # the CPU has such pages), and the kernel offers no page-table oracle
    # for vfio and sysfs mappings (no PTDUMP_DEBUGFS).
    "stock": [
        ("map BDF 2", "hugepfn", ["1G"]),
        ("map carveout:demo 0", "hugepfn", ["4K"]),
        ("map BDF 2 --length 64M --4k", "hugepfn", ["4K"]),
        ("map BDF 2 --length 64M --huge-required", "hugepfn", ["2M"]),
        ("map BDF 2 --length 256M", "vfio", ["unknown"]),
        ("map BDF 2 --length 256M", "sysfs", ["unknown"]),
    ],
}


def blocks(text):
    """[(command, [output lines])] of every "$ hugepfn ..." in the output."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\$ hugepfn (.*)$", line)
        if m:
            out.append((m.group(1).strip(), []))
        elif out:
            out[-1][1].append(line.strip())
    return out


def page_sizes(lines):
    """The PAGE SIZE column of a map's runs table."""
    sizes, inside = [], False
    for line in lines:
        if line.startswith("OFFSET") and line.endswith("PAGE SIZE"):
            inside = True
        elif inside and re.match(r"^0x[0-9a-f]+ ", line):
            sizes.append(line.split()[-1])
        elif inside:
            break
    return sizes


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in EXPECTED:
        sys.exit("usage: check-demo.py patched|stock DEMO_OUTPUT")
    kind = sys.argv[1]
    with open(sys.argv[2], encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = re.search(r"the emulated device is (\S+),", text)
    bdf = m.group(1) if m else "?"
    maps = [(c, l) for c, l in blocks(text) if c.startswith("map ")]
    results = []
    results.append((bdf != "?", f"demo ({kind}): names the emulated device"))
    results.append((len(maps) == len(EXPECTED[kind]),
                    f"demo ({kind}): made {len(EXPECTED[kind])} mappings (made {len(maps)})"))
    for i, (cmd, path, want) in enumerate(EXPECTED[kind]):
        cmd = cmd.replace("BDF", bdf)
        got_cmd, lines = maps[i] if i < len(maps) else ("", [])
        body = " ".join(lines)
        if isinstance(want, str):
            ok = got_cmd == cmd and want in body
            results.append((ok, f"demo ({kind}): 'hugepfn {cmd}' fails with '{want}'"))
            continue
        got = page_sizes(lines)
        ok = got_cmd == cmd and f"through {path}," in body and got == want
        results.append((ok, f"demo ({kind}): 'hugepfn {cmd}' through {path} maps with "
                            f"{'/'.join(want)} pages (got {'/'.join(got) or 'nothing'})"))
    finished = f"demo finished: the lines above come from inside the VM ({kind} kernel)."
    results.append((finished in text, f"demo ({kind}): says it finished"))
    for ok, desc in results:
        print(f"{'ok' if ok else 'not ok'} - {desc}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Host tests of the hugepfn command-line tool on a fake sysfs tree
(fake_sysfs.py; the tool's --sysfs-root and --dev-root). Prints TAP.

  test_tool.py TOOL

Every subcommand's --json output is parsed with Python's json module (and
checked for key order where the guest tests grep exact text, and for raw
errnos), --json and the other global options are tried after the
command, and the exit status of usage errors (2) and of device errors (1)
is checked, with the bad argument named in the message.

HUGEPFN_TOOL_WRAPPER, when set, is split like a shell command line and put
in front of every run of TOOL, so that another stage can run these same
checks under valgrind:

  HUGEPFN_TOOL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full \\
      --errors-for-leak-kinds=definite" test_tool.py build/tools/hugepfn

A run that exits 99 under a wrapper counts as a memory error: the last
check lists every such run, with the end of its stderr.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_sysfs  # noqa: E402

WRAPPER = shlex.split(os.environ.get("HUGEPFN_TOOL_WRAPPER", ""))
WRAPPER_ERROR = 99
DEV = "0000:00:05.0"		# no driver: the sysfs backend, BAR0 an 8 MiB file
BAD_BDF = "0000:00:05.0x5"	# names another function under a lax parser
NO_DEV = "0000:00:1f.7"		# well-formed, absent

count = 0
failed = 0
wrapper_errors = []


def check(ok, desc, diag=""):
    global count, failed
    count += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {count} - {desc}")
    if not ok and diag:
        for line in str(diag).splitlines()[-12:]:
            print(f"# {line}")
    return ok


class Run:
    """One run of the tool: rc, stdout, stderr, and the JSON on stdout (or None)."""

    def __init__(self, tool, args, roots):
        self.args = list(args)
        cmd = WRAPPER + [tool] + roots + self.args
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr
        if WRAPPER and self.rc == WRAPPER_ERROR:
            wrapper_errors.append(f"{' '.join(self.args)}: {self.err[-800:]}")
        try:
            self.json = json.loads(self.out)
        except ValueError:
            self.json = None

    def __str__(self):
        return f"hugepfn {' '.join(self.args)}: rc {self.rc}\nstdout: {self.out}\nstderr: {self.err}"


def negative_ints(value, path="$"):
    """Every integer below 0 in a JSON value: a raw errno, never a figure."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [path] if value < 0 else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in negative_ints(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in negative_ints(v, f"{path}[{i}]")]
    return []


class Tests:
    def __init__(self, tool, root):
        self.tool = tool
        self.sys_root, self.dev_root = fake_sysfs.make_tree(root)
        self.roots = ["--sysfs-root", self.sys_root, "--dev-root", self.dev_root]

    def run(self, *args, roots=True):
        return Run(self.tool, args, self.roots if roots else [])

    def json_ok(self, r, desc, want_type=dict):
        """The run printed one JSON value of @want_type, without raw errnos."""
        ok = r.json is not None and isinstance(r.json, want_type) and r.out.count("\n") == 1
        check(ok, f"{desc}: valid JSON ({want_type.__name__}) on one line", r)
        bad = negative_ints(r.json) if ok else []
        check(ok and not bad, f"{desc}: no negative numbers (raw errnos) in the JSON", bad or r)
        return ok

    def usage_error(self, r, desc, named):
        """Exit 2, with the bad argument named on stderr and nothing on stdout."""
        check(r.rc == 2 and named in r.err and not r.out,
              f"{desc}: exit 2, naming '{named}'", r)

    # ---- the subcommands' JSON ----------------------------------------------------

    def test_version(self):
        r = self.run("--version")
        check(r.rc == 0 and r.out.startswith("hugepfn ") and "libhugepfn" in r.out,
              "--version prints the tool's and the library's versions", r)
        for args in (["--json", "version"], ["version", "--json"], ["--version", "--json"]):
            r = self.run(*args)
            if self.json_ok(r, " ".join(args)):
                check(list(r.json) == ["tool", "library"] and all(r.json.values()),
                      f"{' '.join(args)}: {{tool, library}}", r)

    def test_list(self):
        for args in (["--json", "list"], ["list", "--json"]):
            r = self.run(*args)
            if not self.json_ok(r, " ".join(args)):
                continue
            pci = r.json.get("pci", [])
            check([d.get("device") for d in pci] == ["0000:00:05.0", "0000:00:06.0", "0000:00:07.0"],
                  f"{' '.join(args)}: the three fake devices", r)
            check(pci and list(pci[0]) == ["device", "vendor", "device_id", "class", "driver",
                                           "iommu_group", "numa_node", "bars"] and
                  list(pci[0]["bars"][0]) == ["index", "phys", "size", "io", "mem64", "prefetchable"],
                  f"{' '.join(args)}: keys in the order the guest tests grep", r)
            check(pci and pci[0]["iommu_group"] is None and pci[1]["driver"] == "hugepfn" and
                  pci[0]["bars"][0] == {"index": 0, "phys": "0x200000000", "size": 8 << 20, "io": False,
                                        "mem64": True, "prefetchable": True},
                  f"{' '.join(args)}: no IOMMU group is null; driver and BAR0 as in sysfs", r)
            check('"carveouts":[{"name":"buf","phys":null,"size":null}]' in r.out,
                  f"{' '.join(args)}: the carveout, unknown address and size as null", r)
        r = self.run("list")
        check(r.rc == 0 and any(l.startswith(DEV + " ") and "0:8M@0x200000000(pf)" in l
                                for l in r.out.splitlines()), "list: a line per device, BAR0 8M", r)

    def test_info(self):
        r = self.run("info", DEV, "--json")
        if self.json_ok(r, "info DEV --json"):
            regions = r.json.get("regions", [])
            check(r.json.get("backend") == "sysfs" and len(regions) == 6 and
                  regions[0]["size"] == 8 << 20 and regions[0]["mappable"] and regions[1]["io"],
                  "info --json: the sysfs backend, six regions, BAR0 8M mappable, BAR1 I/O", r)
            check(list(regions[0]) == ["index", "size", "phys", "mappable", "prefetchable", "mem64", "wc",
                                       "carveout", "io", "fault_filled", "sparse"],
                  "info --json: region keys in order", r)
        r = self.run("info", DEV)
        check(r.rc == 0 and f"{DEV} through sysfs" in r.out and "8M" in r.out, "info: text", r)

    def test_map(self):
        r = self.run("map", DEV, "0", "--length", "64K", "--json")
        if self.json_ok(r, "map DEV 0 --length 64K --json"):
            j = r.json
            check(list(j)[:12] == ["device", "backend", "region", "offset", "address", "length",
                                   "alignment", "mmap_us", "touch_us", "page_table_pages",
                                   "page_table_pages_why_not", "cache"],
                  "map --json: keys in order", r)
            check(j["length"] == 64 << 10 and j["backend"] == "sysfs" and j["runs"] and
                  all(list(run) == ["offset", "length", "page_size"] for run in j["runs"]),
                  "map --json: 64K mapped, runs of {offset, length, page_size}", r)
            check((j["page_table_pages"] is None) == bool(j["page_table_pages_why_not"]),
                  "map --json: page_table_pages is a count, or null with the reason "
                  f"({j['page_table_pages']!r}: {j['page_table_pages_why_not']!r})", r)
        r = self.run("map", DEV, "0", "--offset", "1M", "--length", "4K")
        check(r.rc == 0 and ", 4K, aligned for" in r.out and "0M" not in r.out,
              "map --length 4K: the size reads 4K (never 0M)", r)
        r = self.run("map", DEV, "1")
        check(r.rc == 1 and "I/O" in r.err and "->" in r.err,
              "map of the I/O BAR: exit 1, the library's reason and what to do", r)
        r = self.run("--json", "map", DEV, "1")
        check(r.rc == 1 and r.json and list(r.json.get("error", {})) ==
              ["command", "what", "reason", "detail", "advice"],
              "map --json of the I/O BAR: {\"error\":{command, what, reason, detail, advice}}", r)

    def bar_word(self, offset, size=4):
        path = os.path.join(self.sys_root, "bus/pci/devices", DEV, "resource0")
        with open(path, "rb") as f:
            f.seek(offset)
            return int.from_bytes(f.read(size), "little")

    def test_peek_poke(self):
        r = self.run("poke", DEV, "0", "0x40", "0xdeadbeef")
        check(r.rc == 0 and "wrote 0xdeadbeef" in r.out and "0x40" in r.out and
              self.bar_word(0x40) == 0xdeadbeef, "poke: writes the BAR file and says what it wrote", r)
        r = self.run("peek", DEV, "0", "0x40")
        check(r.rc == 0 and r.out == "0xdeadbeef\n", "peek: reads it back", r)
        r = self.run("poke", DEV, "0", "0x48", "0x0123456789abcdef", "--width", "64", "--json")
        if self.json_ok(r, "poke --json"):
            check(list(r.json) == ["device", "access", "region", "offset", "width", "value"] and
                  r.json["access"] == "write" and r.json["value"] == 0x0123456789abcdef and
                  self.bar_word(0x48, 8) == 0x0123456789abcdef, "poke --json: what it wrote", r)
        r = self.run("--json", "peek", DEV, "0", "0x4f", "--width", "8")
        if self.json_ok(r, "peek --json"):
            check(r.json["value"] == 1 and r.out.rstrip().endswith('"value":1}'),
                  "peek --json: the value, last (as t_lib greps it)", r)
        r = self.run("peek", DEV, "0", "8M")
        check(r.rc == 1, "peek one past the region: exit 1 (a device error)", r)

    def test_bench(self):
        r = self.run("bench", "--host", "--sizes", "4K,8K", "--reps", "1", "--copy-size", "4K", "--json")
        if self.json_ok(r, "bench --host --json"):
            sides = r.json.get("sides", [])
            check([s.get("name") for s in sides] == ["4K", "2M", "1G"] and
                  list(sides[0])[:5] == ["name", "available", "why_not", "alignment", "largest_page"],
                  "bench --json: the sides 4K, 2M, 1G, keys in order", r)
            check(sides[0]["available"] and sides[0]["largest_page"] == 4096,
                  "bench --host: the 4K side got 4 KiB pages", r)
            check(not sides[1]["available"] and "under 2 MiB" in sides[1]["why_not"],
                  "bench --host --sizes 4K,8K: no 2M column, and it says why", r)
            lat = r.json.get("latency", [])
            check([l["size"] for l in lat] == [4096, 8192] and lat[0]["ns_2m"] is None and
                  isinstance(r.json["mapping"]["mmap_ms"], list),
                  "bench --json: latency rows, null for a missing side, mapping triples", r)
        r = self.run("bench", "--host", "--sizes", "4K", "--reps", "1")
        rows = [l.split()[0] for l in r.out.splitlines() if l.endswith("-") and l[:1].isdigit()]
        check(r.rc == 0 and rows[:1] == ["4K"] and "0M" not in r.out,
              "bench --host --sizes 4K: the row is named 4K (not 0M)", r)
        # THP: the 2M column only with 2 MiB pages, as smaps counts them
        r = self.run("--json", "bench", "--host", "--sizes", "4M", "--reps", "1")
        if self.json_ok(r, "bench --host --sizes 4M"):
            s = r.json["sides"][1]
            check((s["available"] and s["largest_page"] == 2 << 20) or
                  (not s["available"] and ("transparent huge pages" in s["why_not"])),
                  f"bench --host: the 2M side got 2 MiB pages, or has no column ({s})", r)

    def test_bench_device(self):
        r = self.run("bench", DEV, "0", "--sizes", "4M", "--reps", "1", "--copy-size", "4K", "--json")
        if self.json_ok(r, "bench DEV 0 --json"):
            sides = r.json["sides"]
            check(r.json["backend"] == "sysfs" and r.json["source"] == DEV and r.json["length"] == 4 << 20 and
                  sides[0]["available"] and sides[0]["alignment"] == 4096,
                  "bench DEV: through sysfs, 4 MiB mapped, the 4K side aligned for 4K", r)
            check(not sides[2]["available"] and sides[2]["why_not"].startswith("the range is under 1 GiB"),
                  "bench DEV: no 1G column in 4 MiB, and why (as t_bench greps it)", r)
            check(all((s["page_table_pages_why_not"] == "") == (p is not None) for s, p in
                      zip(sides, r.json["mapping"]["page_table_pages"])),
                  "bench DEV: each page-table count is a number, or null with the reason", r)
        r = self.run("bench", DEV, "0", "--sizes", "16M")
        self.usage_error(r, "bench --sizes larger than the region", "larger than region 0")
        r = self.run("bench", DEV, "1")
        check(r.rc == 1 and "region 1" in r.err and f"'hugepfn info {DEV}'" in r.err,
              "bench of the 64-byte I/O BAR: exit 1, and the command to look at the regions", r)
        # a device whose BAR file is gone: the map fails inside the benchmark,
        # which must still read the failure's detail from the open handle
        broken = "0000:00:08.0"
        d = fake_sysfs.add_device(self.sys_root, broken, 0x500000000)
        os.unlink(os.path.join(d, "resource0"))
        os.unlink(os.path.join(d, "resource0_wc"))
        for args in (["bench", broken, "0", "--sizes", "4K", "--reps", "1"], ["map", broken, "0"]):
            r = self.run(*args)
            check(r.rc == 1 and f"{broken}/resource0" in r.err,
                  f"{args[0]} on a device without its BAR file: exit 1 with the library's detail", r)

    def test_doctor(self):
        for args in (["--json", "doctor"], ["doctor", DEV, "--json"]):
            r = self.run(*args)
            if not self.json_ok(r, " ".join(args), list):
                continue
            fails = any(c.get("status") == "fail" for c in r.json)
            check(r.json and all(list(c) == ["check", "status", "found", "advice"] for c in r.json) and
                  r.out.startswith('[{"check":"') and r.rc == (1 if fails else 0),
                  f"{' '.join(args)}: an array of {{check, status, found, advice}}, exit 1 only on a fail", r)

    def test_bind(self):
        r = self.run("bind", DEV, "vfio-pci", "--json")
        check(r.rc == 1 and "driver vfio-pci is not loaded" in r.err and r.json and
              "not loaded" in r.json["error"]["detail"] and "modprobe vfio-pci" in r.json["error"]["advice"],
              "bind to a driver that is not loaded: exit 1, JSON error saying what to do", r)
        r = self.run("--json", "bind", DEV)
        if self.json_ok(r, "bind DEV (hugepfn, loaded in the fake tree)"):
            check(r.json == {"device": DEV, "driver": "hugepfn"}, "bind --json: {device, driver}", r)
        r = self.run("unbind", "0000:00:06.0", "--json")
        if self.json_ok(r, "unbind --json"):
            check(r.json == {"device": "0000:00:06.0", "driver": ""}, "unbind --json: {device, driver}", r)
        r = self.run("bind", NO_DEV, "bad/drv")
        check(r.rc == 2 and "bad/drv" in r.err and "driver name" in r.err and "PCI address" not in r.err,
              "bind BDF bad/drv: exit 2, blaming the driver's name, not the address", r)
        r = self.run("unbind", NO_DEV)
        check(r.rc == 1 and "no such PCI device" in r.err, "unbind of an absent device: exit 1", r)

    # ---- usage ------------------------------------------------------------------------

    def test_bad_bdf_everywhere(self):
        for args in (["info", BAD_BDF], ["map", BAD_BDF, "0"], ["bind", BAD_BDF], ["unbind", BAD_BDF],
                     ["peek", BAD_BDF, "0", "0"], ["poke", BAD_BDF, "0", "0", "1"],
                     ["bench", BAD_BDF, "0", "--sizes", "4K"], ["doctor", BAD_BDF]):
            self.usage_error(self.run(*args), f"{args[0]} with a malformed PCI address", BAD_BDF)

    def test_bad_numbers(self):
        for args, named in (
                (["map", DEV, "0", "--offset", "-4096"], "-4096"),
                (["map", DEV, "0", "--length", "17179869185G"], "17179869185G"),
                (["map", DEV, "0", "--length", "18446744073709551616"], "18446744073709551616"),
                (["map", DEV, "0", "--offset", ""], "--offset ''"),
                (["map", DEV, "0", "--offset", " 4096"], "' 4096'"),
                (["map", DEV, "0", "--offset", "4096 "], "'4096 '"),
                (["map", DEV, "0", "--length", "4096x"], "4096x"),
                (["map", DEV, "0", "--length", "0x"], "'0x'"),
                (["map", DEV, "0", "--length", "4Mi"], "4Mi"),
                (["map", DEV, "0", "--offset", "100"], "page size"),
                (["map", DEV, "256"], "256"),
                (["map", DEV, "-1"], "-1"),
                (["bench", "--host", "--sizes", "64M,,1G"], "64M,,1G"),
                (["bench", "--host", "--sizes", "64M,"], "64M,"),
                (["bench", "--host", "--sizes", ""], "--sizes ''"),
                (["bench", "--host", "--sizes", "5000"], "not a multiple of 4K"),
                (["bench", "--host", "--sizes", ",".join(["4K"] * 17)], "too many"),
                (["bench", "--host", "--reps", "0"], "--reps '0'"),
                (["bench", "--host", "--reps", "+3"], "--reps '+3'"),
                (["bench", "--host", "--copy-size", "1T"], "1T"),
                (["peek", DEV, "0", "0x41"], "0x41"),
                (["peek", DEV, "0", "0x40", "--width", "12"], "--width '12'"),
                (["poke", DEV, "0", "0x40", "0x100", "--width", "8"], "0x100"),
                (["poke", DEV, "0", "0x40", "1K"], "1K")):
            self.usage_error(self.run(*args), " ".join(args), named)
        r = self.run("map", DEV, "0", "--offset", "1MiB", "--length", "0x1000")
        check(r.rc == 0, "sizes take KiB/MiB/GiB and 0x hex (--offset 1MiB --length 0x1000)", r)
        for args, named in ((["map", DEV, "0", "--off", "0x1000"], "--off"),
                            (["map", DEV, "0", "--of=0x1000"], "--of=0x1000"),
                            (["bench", "--ho", "--sizes", "4K"], "--ho")):
            r = self.run(*args)
            self.usage_error(r, " ".join(args) + " (an abbreviated option)", named)
            check("abbreviated" in r.err, f"{' '.join(args)}: says options are not abbreviated", r)

    def test_usage(self):
        for cmd in ("list", "info", "map", "bind", "unbind", "peek", "poke", "bench", "doctor", "version"):
            for h in ("--help", "-h"):
                r = self.run(cmd, h)
                check(r.rc == 0 and r.out.startswith("Usage: hugepfn ") and f" {cmd}" in r.out,
                      f"{cmd} {h}: its usage on stdout, exit 0", r)
        r = self.run("--help", roots=False)
        check(r.rc == 0 and all(o in r.out for o in ("--sysfs-root DIR", "--dev-root DIR", "--version",
                                                      "--json", "--backend NAME")),
              "--help describes the global options", r)
        check(self.run("doctor", "--help").out.startswith("Usage: hugepfn [--json] doctor [DEV]"),
              "doctor --help: the usage line t_doctor greps")
        for args, named in ((["frob"], "frob"), (["--frob", "list"], "--frob"), (["list", "--frob"], "--frob"),
                            (["list", "extra"], "extra"), (["map", DEV], "missing"),
                            (["map", DEV, "0", "--4k", "--2m"], "--4k and --2m"),
                            (["--backend", "nope", "list"], "nope"), (["list", "--backend"], "--backend"),
                            (["info", "carveout:buf", "--backend", "sysfs"], "carveout:buf"),
                            (["bench", DEV], "DEV and REGION"), (["bench", "--host", DEV, "0"], "--host")):
            self.usage_error(self.run(*args), " ".join(args), named)
        self.usage_error(self.run(roots=False), "no command", "Usage:")
        r = self.run("info", DEV, "--sysfs-root", "", roots=False)
        self.usage_error(r, "--sysfs-root ''", "--sysfs-root")

    def test_globals_anywhere(self):
        r = self.run("info", DEV, "--json", "--sysfs-root", self.sys_root, "--dev-root=" + self.dev_root,
                     "--backend=sysfs", roots=False)
        check(r.rc == 0 and r.json and r.json.get("backend") == "sysfs",
              "--json, --sysfs-root DIR, --dev-root=DIR and --backend=NAME after the command", r)
        r = self.run("--sysfs-root=" + self.sys_root, "map", "--json", DEV, "--length", "4K", "0", roots=False)
        check(r.rc == 0 and r.json and r.json.get("length") == 4096,
              "options and arguments in any order around the command", r)
        r = self.run("info", NO_DEV, "--json")
        check(r.rc == 1 and r.json and "hugepfn list" in r.json["error"]["advice"] and "->" in r.err,
              "an absent device: exit 1, JSON error, and what to do next", r)

    def test_wrapper(self):
        check(not wrapper_errors, f"no run reported memory errors under the wrapper ({' '.join(WRAPPER) or 'none'})",
              "\n".join(wrapper_errors))

    def all(self):
        for name in ("version", "list", "info", "map", "peek_poke", "bench", "doctor", "bind",
                     "bench_device",
                     "bad_bdf_everywhere", "bad_numbers", "usage", "globals_anywhere", "wrapper"):
            getattr(self, "test_" + name)()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_tool.py TOOL")
    with tempfile.TemporaryDirectory(prefix="hugepfn-tool-") as root:
        Tests(os.path.abspath(sys.argv[1]), root).all()
    print(f"1..{count}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

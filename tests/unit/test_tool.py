#!/usr/bin/env python3
"""Host tests of the hugepfn command-line tool on a fake sysfs tree
(fake_sysfs.py; the tool's --sysfs-root and --dev-root). Prints TAP.

  test_tool.py TOOL [UDEV_RULES_DIR]

Every subcommand's --json output is parsed with Python's json module (and
checked for key order where the guest tests grep exact text, and for raw
errnos), --json and the other global options are tried after the
command, and the exit status of usage errors (2) and of device errors (1)
is checked, with the bad argument named in the message. The bindings
recorded for every boot (bind --persist, --list-persistent,
--apply-persistent, unbind --persist) and doctor's findings about the
installation run on fake installations under --root (UDEV_RULES_DIR: where
the build installs its udev rules, for doctor's look at the boot rule).

HUGEPFN_TOOL_WRAPPER, when set, is split like a shell command line and put
in front of every run of TOOL, so that another stage can run these same
checks under valgrind:

  HUGEPFN_TOOL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full \\
      --errors-for-leak-kinds=definite" test_tool.py build/tools/hugepfn

A run that exits 99 under a wrapper counts as a memory error: the last
check lists every such run, with the end of its stderr.
"""
import fcntl
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

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
    """One run of the tool: rc, stdout, stderr, and the JSON on stdout (or None).
    raw_out and raw_err are the bytes; out and err the text (undecodable
    bytes as U+FFFD). @env adds to the environment; @preexec runs in the
    child before the tool (signal dispositions); seconds the run took."""

    def __init__(self, tool, args, roots, env=None, preexec=None, timeout=600):
        self.args = list(args)
        cmd = WRAPPER + [tool] + roots + self.args
        start = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, env={**os.environ, **(env or {})},
                               preexec_fn=preexec)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            # a hang is a failure to report, not a reason to stop the other checks
            rc, out, err = None, e.stdout or b"", (e.stderr or b"") + f"\n(killed after {timeout} s)".encode()
        self.seconds = time.monotonic() - start
        self.raw_out, self.raw_err = out, err
        self.rc, self.out, self.err = rc, out.decode(errors="replace"), err.decode(errors="replace")
        if WRAPPER and self.rc == WRAPPER_ERROR:
            wrapper_errors.append(f"{' '.join(self.args)}: {self.err[-800:]}")
        try:
            self.json = json.loads(self.out)
        except ValueError:
            self.json = None

    def __str__(self):
        return f"hugepfn {' '.join(self.args)}: rc {self.rc}\nstdout: {self.out}\nstderr: {self.err}"


def ls(d):
    return os.listdir(d) if os.path.isdir(d) else []


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
    def __init__(self, tool, root, udev_rules_dir=None):
        self.tool = tool
        self.top = root
        self.udev_rules_dir = udev_rules_dir
        self.sys_root, self.dev_root = fake_sysfs.make_tree(root)
        self.inst_root = os.path.join(root, "root")	# no records, no modules: --root
        os.makedirs(self.inst_root)
        self.roots = ["--sysfs-root", self.sys_root, "--dev-root", self.dev_root, "--root", self.inst_root]
        self.installs = 0

    def run(self, *args, roots=True, **kw):
        return Run(self.tool, args, self.roots if roots else [], **kw)

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
                     ["bind", "--persist", BAD_BDF], ["unbind", "--persist", BAD_BDF],
                     ["bind", "--apply-persistent", BAD_BDF],
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

    # ---- bindings recorded for every boot ------------------------------------------

    def new_install(self):
        """An empty --root of its own, and its records directory as the tool names it."""
        self.installs += 1
        root = os.path.join(self.top, f"install{self.installs}")
        os.makedirs(root)
        r = self.run("--json", "bind", "--list-persistent", "--root", root)
        d = r.json.get("directory", "") if isinstance(r.json, dict) else ""
        check(r.rc == 0 and d.startswith(root + "/") and d.endswith("/hugepfn/bind.d") and
              r.json.get("bindings") == [], f"--list-persistent under a new --root: none, in {d}", r)
        return root, d

    def record(self, d, name, text, mode=0o644):
        """A file of @d, @mode whatever the umask (a group-writable record is refused)."""
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        path = os.path.join(d, name) if isinstance(name, str) else os.path.join(d.encode(), name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(path, mode)

    def sysfs_text(self, rel):
        with open(os.path.join(self.sys_root, rel), encoding="ascii") as f:
            return f.read()

    def test_persist_record(self):
        root, d = self.new_install()
        rec = os.path.join(d, "pci-" + DEV)
        fake_sysfs.reset_writes(self.sys_root, DEV)
        old = os.umask(0o077)	# the record is 0644 whatever the umask
        try:
            r = self.run("--json", "bind", "--persist", DEV[5:], "--root", root)
        finally:
            os.umask(old)
        if self.json_ok(r, "bind --persist BB:DD.F --json"):
            check(r.json == {"device": DEV, "driver": "hugepfn", "record": rec},
                  "bind --persist --json: {device, driver, record}, the device and the record named canonically", r)
        check(os.path.isfile(rec) and open(rec).read() == "hugepfn\n",
              "the record pci-DDDD:BB:DD.F holds the driver's name, one line", sorted(ls(d)))
        check(os.path.isfile(rec) and oct(os.stat(rec).st_mode & 0o777) == oct(0o644) and
              oct(os.stat(d).st_mode & 0o777) == oct(0o755),
              "the record is 0644 and the directories it made 0755 (doctor reads them as anyone), "
              "even under umask 077", [oct(os.stat(p).st_mode) for p in (rec, d) if os.path.exists(p)])
        check(self.sysfs_text(f"bus/pci/devices/{DEV}/driver_override").startswith("hugepfn") and
              self.sysfs_text("bus/pci/drivers/hugepfn/bind") == DEV,
              "bind --persist binds now: driver_override, then the driver's bind", r)
        # atomic: a new record is renamed over the old one, never written into it
        os.link(rec, os.path.join(self.top, "old-record"))
        fake_sysfs.add_driver(self.sys_root, "vfio-pci")
        r = self.run("bind", "--persist", DEV, "vfio-pci", "--root", root)
        check(r.rc == 0 and open(rec).read() == "vfio-pci\n" and
              open(os.path.join(self.top, "old-record")).read() == "hugepfn\n" and
              sorted(ls(d)) == ["pci-" + DEV] and "recorded in " + rec in r.out,
              "bind --persist again: a new file renamed over the record (the old inode keeps the old "
              "text), no temporary file left", [r, sorted(ls(d))])
        shutil.rmtree(os.path.join(self.sys_root, "bus/pci/drivers/vfio-pci"))
        self.persist_refused_binds(root, d)

    def persist_refused_binds(self, root, d):
        """Nothing is recorded when the bind is refused or fails."""
        before = {n: open(os.path.join(d, n)).read() for n in ls(d)}
        for args, rc, why in (([DEV, "nvme"], 2, "hugepfn or vfio-pci"),
                              (["0000:00:06.0", "vfio-pci"], 1, "not loaded"),
                              ([NO_DEV], 1, "no such PCI device")):
            r = self.run("bind", "--persist", *args, "--root", root)
            after = {n: open(os.path.join(d, n)).read() for n in ls(d)}
            check(r.rc == rc and why in r.err and after == before,
                  f"bind --persist {' '.join(args)}: exit {rc} ({why}), nothing recorded", [r, after])
        os.chmod(d, 0o555)
        try:
            r = self.run("bind", "--persist", "0000:00:06.0", "--root", root)
            writable = os.access(d, os.W_OK)	# root writes anyway
        finally:
            os.chmod(d, 0o755)
        check(writable or (r.rc == 1 and "bound now, but not for the next boot" in r.err and "->" in r.err),
              "bind --persist into a read-only directory: exit 1, bound now but not recorded, and what to do", r)
        # bind.d swapped for a link (to where the boot's root writes): refused, before anything is bound
        elsewhere = os.path.join(self.top, "elsewhere")
        os.makedirs(elsewhere, exist_ok=True)
        os.rename(d, d + ".real")
        os.symlink(elsewhere, d)
        fake_sysfs.reset_writes(self.sys_root, DEV)
        try:
            r = self.run("bind", "--persist", DEV, "--root", root)
        finally:
            os.unlink(d)
            os.rename(d + ".real", d)
        check(r.rc == 1 and "a symbolic link, or not a directory" in r.err and "nothing was bound" in r.err and
              not ls(elsewhere) and self.sysfs_text("bus/pci/drivers/hugepfn/bind") == "",
              "bind --persist with the records' directory a symbolic link: refused, nothing bound or written", r)

    def test_persist_list(self):
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "hugepfn\n")
        self.record(d, "pci-0000:00:06.0", "# bound by hand\n\nhugepfn")	# comments, no final newline
        self.record(d, "pci-" + NO_DEV, "vfio-pci\n")
        self.record(d, ".pci-0000:00:07.0.tmp", "garbage")	# a record being written: skipped
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        r = self.run("--json", "bind", "--list-persistent", "--root", root)
        if self.json_ok(r, "bind --list-persistent --json"):
            rows = r.json["bindings"]
            check([(b["device"], b["driver"], b["bound_to"], b["state"]) for b in rows] ==
                  [(DEV, "hugepfn", "none", "not-applied"), ("0000:00:06.0", "hugepfn", "hugepfn", "applied"),
                   (NO_DEV, "vfio-pci", None, "absent")] and r.rc == 0,
                  "--list-persistent: each record, what its device is bound to now, and its state", r)
            check(rows and list(rows[0]) == ["device", "file", "driver", "bound_to", "state", "detail"],
                  "--list-persistent --json: keys in order", r)
        r = self.run("bind", "--list-persistent", "--root", root)
        check(r.rc == 0 and f"recorded in {d}" in r.out and any(
            l.split() == ["0000:00:06.0", "hugepfn", "hugepfn", "applied"] for l in r.out.splitlines()),
            "--list-persistent: a table, and where the records are", r)

    def test_persist_refused(self):
        root, d = self.new_install()
        bad = {"pci-0000:00:07.0": ("# a comment\nnvme\n", "line 2: 'nvme' is not hugepfn or vfio-pci"),
               "pci-0000:00:08.0": ("hugepfn\nvfio-pci\n", "line 2: a second driver line ('vfio-pci')"),
               "pci-0000:00:09.0": ("hugepfn \n", "line 1: 'hugepfn ' is not hugepfn or vfio-pci"),
               "pci-0000:00:0a.0": ("# only a comment\n\n", "no driver line"),
               "pci-0000:00:0b.0": ("hug\0epfn\n", "holds a NUL byte"),
               "pci-0000:00:0C.0": ("hugepfn\n", "name it pci-0000:00:0c.0"),
               "pci-00:0d.0": ("hugepfn\n", "name it pci-0000:00:0d.0"),
               "pci-0000:00:0e.0": ("# made on Windows\r\nvfio-pci\r\n", "line 2 ends in a carriage return (a DOS line ending)"),
               "pci-0000:00:0f.0": ("hugepfn\n" + "#" * 5000 + "\n", "over 4096 bytes"),
               "pci-0000:00:10.0": ("hugepfn\n", "is writable by its group (mode 0664)"),
               "pci-0000:00:11.0": (None, "is a symbolic link; records are plain files"),
               "pci-0000:00:12.0": (None, "is a FIFO; records are plain files"),
               "pci-0000:00:13.0": (None, "is a directory; records are plain files"),
               "pci-zz": ("hugepfn\n", "not a record (records are named pci-DDDD:BB:DD.F")}
        for name, (text, _) in bad.items():
            if text is not None:
                self.record(d, name, text, 0o664 if "00:10.0" in name else 0o644)
        os.symlink("pci-" + DEV, os.path.join(d, "pci-0000:00:11.0"))
        os.mkfifo(os.path.join(d, "pci-0000:00:12.0"))	# opening it would hang the boot
        os.mkdir(os.path.join(d, "pci-0000:00:13.0"))
        self.record(d, "pci-" + DEV, "hugepfn\n")
        ignored = ["README", "pci-0000:00:05.0.dpkg-old", "pci-0000:00:05.0~", "pci-0000:00:05.0.rpmsave"]
        for name in ignored:
            self.record(d, name, "nvme\n")
        r = self.run("--json", "bind", "--list-persistent", "--root", root, timeout=60)
        rows = {b["file"]: b for b in r.json["bindings"]} if isinstance(r.json, dict) else {}
        for name, (_, why) in bad.items():
            b = rows.get(name, {})
            check(r.rc == 1 and b.get("state") == "invalid" and b.get("driver") is None and
                  b.get("detail", "").startswith(os.path.join(d, name)) and why in b.get("detail", "") and
                  f"{os.path.join(d, name)}" in r.err,
                  f"a refused record, {name}: invalid, naming the file and what is wrong ({why})", [b, r])
        check(rows.get("pci-" + DEV, {}).get("state") in ("applied", "not-applied"),
              "a good record beside refused ones is still listed as one", r)
        check(not set(ignored) & set(rows) and all(f"{os.path.join(d, n)}: ignored" in r.err for n in ignored),
              "backup copies and names other than pci-*: not records, ignored with a notice on stderr", r)
        for name, advice in (("pci-0000:00:0e.0", "dos2unix "), ("pci-0000:00:10.0", "chmod go-w "),
                             ("pci-0000:00:0C.0", "mv ")):
            check(f"-> {advice}{os.path.join(d, name)}" in r.err, f"a refused record, {name}: what to do, '{advice}...'", r)
        r = self.run("bind", "--apply-persistent", "--root", root, timeout=60)
        check(r.rc == 1 and sum(l.split()[2:3] == ["failed"] for l in r.out.splitlines()) == len(bad) and
              "fix it" in r.out and f"{len(bad)} of {len(bad) + 1} recorded bindings failed" in r.err,
              "--apply-persistent with refused records: each fails with why and what to do, the rest is applied", r)
        r = self.run("bind", "--apply-persistent", DEV, "--root", root)
        check(r.rc == 0, "--apply-persistent BDF reads that record only: the refused others do not count", r)
        for bdf, why in (("0000:00:12.0", "is a FIFO"), ("0000:00:11.0", "symbolic link")):
            r = self.run("bind", "--apply-persistent", bdf, "--root", root, timeout=60)
            check(r.rc == 1 and why in r.out, f"--apply-persistent {bdf} (as the udev rule runs it): refused, '{why}'", r)
        r = self.run("doctor", "--root", root, timeout=60)
        check(r.rc == 1 and any(l.startswith("fail   binding") and "line 2: 'nvme'" in l and "->" in l
                                for l in r.out.splitlines()),
              "doctor: a refused record is a failed finding, naming the file and the line", r)
        self.persist_foreign(root, d)
        self.persist_odd_names(root, d)

    def persist_foreign(self, root, d):
        """Records another user owns, or others may write, are refused: a boot would run their word as root."""
        if os.geteuid() == 0:
            self.record(d, "pci-0000:00:14.0", "hugepfn\n")
            os.chown(os.path.join(d, "pci-0000:00:14.0"), 4242, -1)
            r = self.run("--json", "bind", "--list-persistent", "--root", root)
            rows = {b["file"]: b for b in r.json["bindings"]} if isinstance(r.json, dict) else {}
            check(rows.get("pci-0000:00:14.0", {}).get("state") == "invalid" and
                  "is owned by uid 4242, not root" in rows["pci-0000:00:14.0"]["detail"] and
                  f"chown root {d}/pci-0000:00:14.0" in r.err, "a record another user owns is refused", r)
            os.unlink(os.path.join(d, "pci-0000:00:14.0"))
        else:
            check(True, "a record another user owns is refused # SKIP not root: cannot chown")
        os.chmod(d, 0o775)
        try:
            for args in (["bind", "--list-persistent"], ["bind", "--apply-persistent"],
                         ["bind", "--persist", "0000:00:06.0"], ["unbind", "--persist", "0000:00:06.0"]):
                r = self.run(*args, "--root", root)
                check(r.rc == 1 and f"{d} is writable by its group" in r.err and f"-> chmod go-w {d}" in r.err and
                      "recorded in" not in r.out,
                      f"{' '.join(args)} with a group-writable records directory: refused, and what to do", r)
            r, c = self.doctor_at(root)
            check(c.get("bindings", [("",)])[0][0] == "fail" and "writable by its group" in c["bindings"][0][1],
                  "doctor with a group-writable records directory: a failed finding", c)
        finally:
            os.chmod(d, 0o755)
        parent = os.path.dirname(d)	# hugepfn/: whoever may write it may swap bind.d
        os.chmod(parent, 0o777)
        try:
            r = self.run("bind", "--list-persistent", "--root", root)
        finally:
            os.chmod(parent, 0o755)
        check(r.rc == 1 and f"{parent} is writable by anyone" in r.err and f"chmod go-w {parent}" in r.err,
              "a records directory inside a directory anyone may write: refused", r)

    def persist_odd_names(self, root, d):
        """A record name with bytes that are no text: escaped once, as \\xNN, in JSON and on the terminal."""
        name = b"pci-\xff\x1b[31m"
        self.record(d, name, "hugepfn\n")
        for args in (["--json", "bind", "--list-persistent"], ["--json", "bind", "--apply-persistent"],
                     ["--json", "doctor"]):
            r = self.run(*args, "--root", root, timeout=60)
            try:
                parsed = json.loads(r.raw_out.decode("utf-8"))
            except ValueError:
                parsed = None
            text = json.dumps(parsed)
            check(parsed is not None and b"\x1b" not in r.raw_out + r.raw_err and b"\xff" not in r.raw_out + r.raw_err and
                  "pci-\\\\xff\\\\x1b[31m" in text,
                  f"{' '.join(args)}: a record named with bytes 0xff and ESC: valid UTF-8 JSON, named pci-\\xff\\x1b[31m, "
                  "no raw byte on stdout or stderr", [r.raw_out[-300:], r.raw_err[-300:]])
        os.unlink(os.path.join(d.encode(), name))

    def test_persist_apply(self):
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "hugepfn\n")
        self.record(d, "pci-0000:00:06.0", "hugepfn\n")
        self.record(d, "pci-0000:00:07.0", "vfio-pci\n")
        self.record(d, "pci-" + NO_DEV, "hugepfn\n")
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
        for bdf in (DEV, "0000:00:07.0"):
            fake_sysfs.reset_writes(self.sys_root, bdf)
        r = self.run("--json", "bind", "--apply-persistent", "--root", root)
        if self.json_ok(r, "bind --apply-persistent --json"):
            got = [(x["device"], x["result"]) for x in r.json["results"]]
            check(got == [(DEV, "bound"), ("0000:00:06.0", "ok"), ("0000:00:07.0", "failed"), (NO_DEV, "absent")],
                  "--apply-persistent: binds what is not bound, leaves what is, an absent device is no failure, "
                  "and it goes on after a failure", r)
            fail = r.json["results"][2]
            check(r.rc == 1 and "vfio-pci is not loaded" in fail["detail"] and "modprobe vfio-pci" in fail["advice"] and
                  list(fail) == ["device", "file", "driver", "result", "detail", "advice"],
                  "--apply-persistent: exit 1 for the failure, with why and what to do (no modprobe on "
                  "a --sysfs-root tree)", r)
        check(self.sysfs_text(f"bus/pci/devices/{DEV}/driver_override").startswith("hugepfn") and
              self.sysfs_text("bus/pci/drivers/hugepfn/bind") == DEV and
              self.sysfs_text("bus/pci/drivers/nvme/unbind") == "",
              "--apply-persistent: the recorded device got its override and its bind; the failed one was left alone")
        fake_sysfs.add_driver(self.sys_root, "vfio-pci")
        fake_sysfs.set_driver(self.sys_root, DEV, "hugepfn")
        r = self.run("bind", "--apply-persistent", "--root", root)
        lines = {l.split()[0]: l.split()[2] for l in r.out.splitlines()[1:] if l.strip()}
        check(r.rc == 0 and lines == {DEV: "ok", "0000:00:06.0": "ok", "0000:00:07.0": "bound", NO_DEV: "absent"} and
              self.sysfs_text("bus/pci/drivers/nvme/unbind") == "0000:00:07.0" and
              self.sysfs_text("bus/pci/devices/0000:00:07.0/driver_override").startswith("vfio-pci"),
              "--apply-persistent once vfio-pci is loaded: 07.0 taken from nvme, exit 0", r)
        fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
        shutil.rmtree(os.path.join(self.sys_root, "bus/pci/drivers/vfio-pci"))
        for args, rc, want in (([NO_DEV], 0, "absent"), (["0000:00:11.0"], 0, "No binding is recorded"),
                               (["00:06.0"], 0, "already bound to hugepfn")):
            r = self.run("bind", "--apply-persistent", *args, "--root", root)
            check(r.rc == rc and want in r.out and "0000:00:07.0" not in r.out,
                  f"--apply-persistent {args[0]} (as the udev rule runs it): that record only, '{want}'", r)
        r = self.run("bind", "--apply-persistent", "--root", os.path.join(root, "none"))
        check(r.rc == 0 and "No binding is recorded" in r.out, "--apply-persistent without records: nothing to do", r)

    def test_persist_order(self):
        """The library's bind, as apply makes it: driver_override before the unbind, then the bind."""
        root, d = self.new_install()
        self.record(d, "pci-0000:00:07.0", "vfio-pci\n")
        fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
        fake_sysfs.add_driver(self.sys_root, "vfio-pci")
        fake_sysfs.reset_writes(self.sys_root, "0000:00:07.0")
        log = fake_sysfs.WriteLog(self.sys_root)
        r = self.run("bind", "--apply-persistent", "--root", root)
        got = log.writes()
        log.close()
        check(r.rc == 0 and got == ["bus/pci/devices/0000:00:07.0/driver_override", "bus/pci/drivers/nvme/unbind",
                                    "bus/pci/drivers/vfio-pci/bind"],
              "--apply-persistent writes driver_override first, then nvme's unbind, then vfio-pci's bind", [r, got])

    def fake_modprobe(self, root, fail=False):
        """[--root]/proc/sys/kernel/modprobe naming a stand-in for modprobe and
        the module's init: it logs its arguments, its environment and the
        devices' overrides, then (unless @fail) makes the driver's directory
        and binds each device without a driver whose override names it, as
        the kernel's probe at driver registration does. Returns the log."""
        log, script = os.path.join(root, "modprobe.log"), os.path.join(root, "modprobe.sh")
        devs, drivers = os.path.join(self.sys_root, "bus/pci/devices"), os.path.join(self.sys_root, "bus/pci/drivers")
        with open(script, "w") as f:
            f.write(f"""#!/bin/sh
echo "argv:$0 $*" >> '{log}'
echo "env:PATH=$PATH HOME=${{HOME-unset}} SENTINEL=${{HUGEPFN_TEST_SENTINEL-unset}}" >> '{log}'
for dev in '{devs}'/*; do echo "override:${{dev##*/}}=$(cat "$dev/driver_override")" >> '{log}'; done
{"exit 1" if fail else ""}
drv=$2
mkdir -p '{drivers}'/"$drv" && : > '{drivers}'/"$drv"/bind && : > '{drivers}'/"$drv"/unbind
for dev in '{devs}'/*; do
    [ "$(cat "$dev/driver_override")" = "$drv" ] && [ ! -e "$dev/driver" ] && ln -s '{drivers}'/"$drv" "$dev/driver"
done
exit 0
""")
        os.chmod(script, 0o755)
        self.record(os.path.join(root, "proc/sys/kernel"), "modprobe", script + "\n")
        if os.path.exists(log):
            os.unlink(log)
        return log

    def test_persist_modprobe(self):
        """A driver that is not loaded: the override first, so that the module binds the device as it
        loads; modprobe run as the kernel names it, with a fixed environment; undone when it fails."""
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "vfio-pci\n")
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        fake_sysfs.reset_writes(self.sys_root, DEV)
        log = self.fake_modprobe(root)
        wlog = fake_sysfs.WriteLog(self.sys_root)
        r = self.run("--json", "bind", "--apply-persistent", "--root", root, env={"HUGEPFN_TEST_SENTINEL": "1"})
        got = wlog.writes()
        lines = open(log).read().splitlines() if os.path.exists(log) else []
        res = r.json["results"][0] if r.json and r.json.get("results") else {}
        check(r.rc == 0 and res.get("result") == "bound" and
              os.readlink(os.path.join(self.sys_root, "bus/pci/devices", DEV, "driver")).endswith("/vfio-pci"),
              "--apply-persistent with the driver not loaded: modprobe loads it and the module binds the device", [r, lines])
        check(f"argv:{root}/modprobe.sh -- vfio-pci" in lines and
              "env:PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=unset SENTINEL=unset" in lines,
              "modprobe: the program proc/sys/kernel/modprobe names, '-- DRIVER' (no -q), PATH alone in its environment",
              lines)
        check(f"override:{DEV}=vfio-pci" in lines and got == [f"bus/pci/devices/{DEV}/driver_override"],
              "the override is set before modprobe runs, and no bind is written once the module took the device",
              [lines, got])
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        shutil.rmtree(os.path.join(self.sys_root, "bus/pci/drivers/vfio-pci"))
        r = self.run("bind", "--apply-persistent", "--root", root,
                     preexec=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        check(r.rc == 0 and any(l.split()[:3] == [DEV, "vfio-pci", "bound"] for l in r.out.splitlines()),
              "--apply-persistent run with SIGCHLD ignored (modprobe's status lost: ECHILD): the bind still tells", r)
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        shutil.rmtree(os.path.join(self.sys_root, "bus/pci/drivers/vfio-pci"))
        fake_sysfs.reset_writes(self.sys_root, DEV)
        log = self.fake_modprobe(root, fail=True)
        wlog.writes()
        r = self.run("bind", "--apply-persistent", "--root", root)
        got = wlog.writes()
        wlog.close()
        check(r.rc == 1 and "modprobe.sh vfio-pci' failed (exit 1)" in r.out and "cleared again" in r.out and
              self.sysfs_text(f"bus/pci/devices/{DEV}/driver_override").startswith("\n") and
              got == [f"bus/pci/devices/{DEV}/driver_override", f"bus/pci/devices/{DEV}/driver_override",
                      "bus/pci/drivers_probe"],
              "a modprobe that fails: exit 1, and the override is cleared again for the usual driver", [r, got])

    def test_persist_cmdline(self):
        """hugepfn.bind=0 on the kernel command line: the way out of a boot a binding breaks."""
        root, d = self.new_install()
        self.record(d, "pci-0000:00:07.0", "hugepfn\n")
        fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
        fake_sysfs.reset_writes(self.sys_root, "0000:00:07.0")
        self.record(os.path.join(root, "proc"), "cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro hugepfn.bind=0 quiet\n")
        for args in (["bind", "--apply-persistent"], ["bind", "--apply-persistent", "0000:00:07.0"]):
            r = self.run(*args, "--root", root)
            check(r.rc == 0 and f"hugepfn.bind=0 is on the kernel command line ({root}/proc/cmdline)" in r.out and
                  "no recorded binding is applied" in r.out and self.sysfs_text("bus/pci/drivers/nvme/unbind") == "",
                  f"{' '.join(args)} with hugepfn.bind=0: nothing applied, and why", r)
        r = self.run("--json", "bind", "--apply-persistent", "--root", root)
        check(r.rc == 0 and r.json and r.json["results"] == [] and "hugepfn.bind=0" in r.json.get("disabled", ""),
              "--apply-persistent --json with hugepfn.bind=0: no results, and \"disabled\" says why", r)
        self.record(os.path.join(root, "proc"), "cmdline", "ro hugepfn.bind=0 hugepfn.bind=1\n")
        r = self.run("bind", "--apply-persistent", "--root", root)
        check(r.rc == 0 and any(l.split()[2:3] == ["bound"] for l in r.out.splitlines()),
              "hugepfn.bind=0 then hugepfn.bind=1: the last one counts, applied", r)

    def test_persist_lock(self):
        """One command at a time, on a lock only root can take, with a bounded wait."""
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "hugepfn\n")
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        # the records directory is anyone's to open and flock(): holding it blocks nothing now
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            r = self.run("bind", "--apply-persistent", "--root", root, env={"HUGEPFN_LOCK_TIMEOUT": "1"}, timeout=30)
        finally:
            os.close(fd)
        check(r.rc == 0, "a flock() on the records directory does not hold --apply-persistent", r)
        lock_dir, lock = os.path.join(root, "run/hugepfn"), os.path.join(root, "run/hugepfn/bind.lock")
        check(os.path.isfile(lock) and os.stat(lock_dir).st_mode & 0o777 == 0o700 and os.stat(lock).st_mode & 0o777 == 0o600,
              "the lock is [--root]/run/hugepfn/bind.lock, 0600 in a 0700 directory",
              [oct(os.stat(p).st_mode) for p in (lock_dir, lock) if os.path.exists(p)])
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        fake_sysfs.reset_writes(self.sys_root, DEV)
        try:
            for args in (["bind", "--apply-persistent"], ["bind", "--persist", "0000:00:06.0"],
                         ["unbind", "--persist", DEV]):
                r = self.run(*args, "--root", root, env={"HUGEPFN_LOCK_TIMEOUT": "1"}, timeout=30)
                check(r.rc == 1 and f"has held {lock} for 1 s" in r.err and f"'fuser -v {lock}'" in r.err and
                      0.9 < r.seconds < 10 and os.path.exists(os.path.join(d, "pci-" + DEV)) and
                      not os.path.exists(os.path.join(d, "pci-0000:00:06.0")) and
                      self.sysfs_text("bus/pci/drivers/hugepfn/bind") == "",
                      f"{' '.join(args)} while another holds the lock: gives up after the bound "
                      f"(HUGEPFN_LOCK_TIMEOUT=1: {getattr(r, 'seconds', 0):.1f} s), says who to look for, changes nothing", r)
        finally:
            os.close(fd)
        os.chmod(lock_dir, 0o755)
        r = self.run("bind", "--apply-persistent", "--root", root)
        os.chmod(lock_dir, 0o700)
        check(r.rc == 1 and f"{lock_dir} is not this user's own directory" in r.err and f"rm -r {lock_dir}" in r.err,
              "a lock directory others can enter is refused", r)

    def test_persist_unbind(self):
        root, d = self.new_install()
        rec = os.path.join(d, "pci-0000:00:06.0")
        self.record(d, "pci-0000:00:06.0", "hugepfn\n")
        self.record(d, "pci-" + NO_DEV, "hugepfn\n")
        fake_sysfs.reset_writes(self.sys_root, "0000:00:06.0")
        r = self.run("--json", "unbind", "--persist", "00:06.0", "--root", root)
        if self.json_ok(r, "unbind --persist --json"):
            check(r.json == {"device": "0000:00:06.0", "driver": "", "record": rec, "removed": True, "unbound": True,
                             "detail": ""}
                  and not os.path.exists(rec) and self.sysfs_text("bus/pci/drivers/hugepfn/unbind") == "0000:00:06.0",
                  "unbind --persist: the record removed, the device unbound", r)
        r = self.run("unbind", "--persist", NO_DEV, "--root", root)
        check(r.rc == 0 and not os.path.exists(os.path.join(d, "pci-" + NO_DEV)) and "nothing to unbind" in r.out,
              "unbind --persist of a device that is gone: its record is removed, exit 0", r)
        r = self.run("unbind", "--persist", NO_DEV, "--root", root)
        check(r.rc == 1 and "no record" in r.err and "--list-persistent" in r.err,
              "unbind --persist with neither device nor record: exit 1, and where to look", r)
        self.unbind_leaves_others(root, d)

    def unbind_leaves_others(self, root, d):
        """unbind --persist undoes what a record did, and nothing else: a typo must not drop a live NVMe."""
        nvme = "0000:00:07.0"
        fake_sysfs.set_driver(self.sys_root, nvme, "nvme")
        fake_sysfs.reset_writes(self.sys_root, nvme)
        r = self.run("unbind", "--persist", nvme, "--root", root)
        check(r.rc == 1 and "no record" in r.err and "left as it is" in r.err and
              self.sysfs_text("bus/pci/drivers/nvme/unbind") == "" and
              os.readlink(os.path.join(self.sys_root, "bus/pci/devices", nvme, "driver")).endswith("/nvme"),
              "unbind --persist without a record, of a device its own driver holds: exit 1, the device left bound", r)
        self.record(d, "pci-" + nvme, "vfio-pci\n")
        r = self.run("--json", "unbind", "--persist", nvme, "--root", root)
        check(r.rc == 0 and r.json and r.json["removed"] and not r.json["unbound"] and
              "bound to nvme, not to vfio-pci as recorded: left as it is" in r.json["detail"] and
              not os.path.exists(os.path.join(d, "pci-" + nvme)) and self.sysfs_text("bus/pci/drivers/nvme/unbind") == "",
              "unbind --persist of a record whose device another driver holds: the record goes, the device stays", r)
        # a device that waits with its override for a driver that never loaded: the override is cleared
        fake_sysfs.set_driver(self.sys_root, DEV, None)
        with open(os.path.join(self.sys_root, "bus/pci/devices", DEV, "driver_override"), "w") as f:
            f.write("vfio-pci\n")
        self.record(d, "pci-" + DEV, "vfio-pci\n")
        r = self.run("unbind", "--persist", DEV, "--root", root)
        check(r.rc == 0 and self.sysfs_text(f"bus/pci/devices/{DEV}/driver_override").startswith("\n") and
              self.sysfs_text("bus/pci/drivers_probe") == DEV,
              "unbind --persist of a device with no driver and the recorded override: the override cleared", r)
        os.mkdir(os.path.join(d, "pci-" + nvme))
        r = self.run("unbind", "--persist", nvme, "--root", root)
        check(r.rc == 1 and "Is a directory" in r.err and "it is a directory, not a record" in r.err and
              f"move it out of {d}" in r.err, "unbind --persist when pci-BDF is a directory: exit 1, and what to do", r)
        os.rmdir(os.path.join(d, "pci-" + nvme))
        # an unbind that fails once the record is gone: says so, and how to try again
        self.record(d, "pci-0000:00:06.0", "hugepfn\n")
        fake_sysfs.set_driver(self.sys_root, "0000:00:06.0", "hugepfn")
        unbind = os.path.join(self.sys_root, "bus/pci/drivers/hugepfn/unbind")
        os.unlink(unbind)
        os.mkdir(unbind)
        try:
            r = self.run("unbind", "--persist", "0000:00:06.0", "--root", root)
        finally:
            os.rmdir(unbind)
            open(unbind, "w").close()
        check(r.rc == 1 and "record" in r.err and "is removed: no boot binds it again" in r.err and
              "'hugepfn unbind 0000:00:06.0' tries again" in r.err and not os.path.exists(os.path.join(d, "pci-0000:00:06.0")),
              "unbind --persist whose unbind fails: the record is gone, and how to try the unbind again", r)

    def test_persist_usage(self):
        for args, named in ((["bind", "--list-persistent", DEV], DEV), (["bind", "--apply-persistent", DEV, "hugepfn"],
                                                                       "hugepfn"),
                            (["bind", "--persist", "--apply-persistent"], "--persist"),
                            (["bind", "--list-persistent", "--apply-persistent"], "exclude"),
                            (["bind"], "missing"), (["bind", "--persist", DEV, "uio_pci_generic"], "uio_pci_generic"),
                            (["bind", "--persist", BAD_BDF], BAD_BDF), (["unbind", "--persist", BAD_BDF], BAD_BDF),
                            (["bind", "--apply-persistent", BAD_BDF], BAD_BDF), (["bind", "--root", ""], "--root"),
                            (["unbind", "--persist"], "missing")):
            self.usage_error(self.run(*args), " ".join(args), named)

    # ---- doctor: the installation ----------------------------------------------------------

    def doctor_at(self, root, *extra):
        """doctor --json with @root: {check: [(status, found, advice)]}."""
        r = self.run("--json", "doctor", "--root", root, *extra)
        out = {}
        for c in r.json if isinstance(r.json, list) else []:
            out.setdefault(c["check"], []).append((c["status"], c["found"], c["advice"]))
        return r, out

    def test_doctor_install(self):
        rel = os.uname().release
        root, d = self.new_install()
        r, c = self.doctor_at(root)
        ko = c.get("ko-install", [("", "", "")])[0]
        check(ko[0] == "warn" and f"no hugepfn.ko for Linux {rel}" in ko[1] and
              f"apt install hugepfn-dkms linux-headers-{rel}" in ko[2] and r.rc == 0,
              "doctor, no module anywhere: warn (not fail: nothing is broken), and what to install", r)
        check(c.get("kernel", [("",)])[0][0] == "info" and rel in c["kernel"][0][1] and "remap-pmd" in c["kernel"][0][1],
              "doctor: the running kernel, and that remap-pmd measures the series", r)
        check(c.get("bindings", [("",)])[0][0] == "info" and "no record" in c["bindings"][0][1] and "binding" not in c,
              "doctor without records: one info line", r)
        mods = os.path.join(root, "lib/modules", rel)
        self.record(os.path.join(mods, "extra"), "hugepfn.ko", "")
        _, c = self.doctor_at(root)
        check(c["ko-install"][0][0] == "warn" and "modules.dep does not list it" in c["ko-install"][0][1] and
              c["ko-install"][0][2] == f"depmod {rel}", "doctor, a hugepfn.ko depmod has not seen: run depmod", c)
        self.record(mods, "modules.dep", "kernel/fs/x.ko:\nupdates/dkms/hugepfn.ko.xz: kernel/y.ko\n")
        _, c = self.doctor_at(root)
        check(c["ko-install"][0][0] == "ok" and f"{mods}/updates/dkms/hugepfn.ko.xz" in c["ko-install"][0][1],
              "doctor, hugepfn.ko (compressed) in modules.dep: ok, where it is", c)
        self.doctor_dkms(rel)
        self.doctor_loaded(rel)
        self.doctor_records()

    def doctor_dkms(self, rel):
        root, _ = self.new_install()
        dkms = os.path.join(root, "var/lib/dkms/hugepfn/0.3.0")
        os.makedirs(os.path.join(dkms, "source"))
        _, c = self.doctor_at(root)
        check(c["ko-install"][0][0] == "warn" and "no build of it for Linux" in c["ko-install"][0][1] and
              c["ko-install"][0][2] == f"apt install linux-headers-{rel} && dkms autoinstall -k {rel}",
              "doctor, DKMS has the source but no build for this kernel: the headers, then dkms autoinstall", c)
        os.makedirs(os.path.join(dkms, rel, "x86_64/module"))
        _, c = self.doctor_at(root)
        check(c["ko-install"][0][0] == "warn" and c["ko-install"][0][2] == f"dkms install hugepfn/0.3.0 -k {rel}",
              "doctor, DKMS built it but did not install it: dkms install", c)
        os.symlink(f"0.3.0/{rel}/x86_64", os.path.join(root, f"var/lib/dkms/hugepfn/kernel-{rel}-x86_64"))
        self.record(os.path.join(root, "lib/modules", rel), "modules.dep", "updates/dkms/hugepfn.ko:\n")
        _, c = self.doctor_at(root)
        check(c["ko-install"][0][0] == "ok" and "installed by DKMS hugepfn/0.3.0" in c["ko-install"][0][1],
              "doctor, installed by DKMS: ok, and by which version", c)

    def doctor_loaded(self, rel):
        root, d = self.new_install()
        mod = os.path.join(self.sys_root, "module/hugepfn")
        os.makedirs(mod)
        try:
            _, c = self.doctor_at(root)
            check(c["ko-install"][0][0] == "info" and "loaded (by hand" in c["ko-install"][0][1],
                  "doctor, loaded but not installed: info, nothing loads it after a reboot", c)
            self.record(d, "pci-" + NO_DEV, "hugepfn\n")
            _, c = self.doctor_at(root)
            check(c["ko-install"][0][0] == "warn" and "cannot be made at boot" in c["ko-install"][0][1],
                  "doctor, loaded by hand with a binding recorded for hugepfn: warn, the boot cannot make it", c)
        finally:
            os.rmdir(mod)

    def doctor_records(self):
        root, d = self.new_install()
        self.record(d, "pci-0000:00:06.0", "hugepfn\n")
        self.record(d, "pci-0000:00:07.0", "hugepfn\n")
        self.record(d, "pci-" + NO_DEV, "vfio-pci\n")
        fake_sysfs.set_driver(self.sys_root, "0000:00:06.0", "hugepfn")
        fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
        r, c = self.doctor_at(root)
        got = [(s, f.split(": ", 1)[0]) for s, f, _ in c.get("binding", [])]
        check(got == [("ok", "0000:00:06.0"), ("warn", "0000:00:07.0"), ("info", NO_DEV)] and
              "bound to nvme" in c["binding"][1][1] and
              "hugepfn bind --apply-persistent 0000:00:07.0" in c["binding"][1][2] and r.rc == 0,
              "doctor: a line a record: made (ok), bound elsewhere (warn, how to apply it), absent (info)", r)
        check(c["bindings"][0][0] == "warn" and "neither the udev rule" in c["bindings"][0][1],
              "doctor, records but no udev rule and no unit enabled: nothing makes them at boot (warn)", c)
        if not self.udev_rules_dir:
            check(True, "doctor with the udev rule installed # SKIP no UDEV_RULES_DIR given")
            return
        rule = 'ACTION=="add", SUBSYSTEM=="pci", RUN+="/usr/bin/hugepfn bind --apply-persistent $kernel"\n'
        self.record(root + self.udev_rules_dir, "61-hugepfn-bind.rules", rule)
        _, c = self.doctor_at(root)
        check(c["bindings"][0][0] == "info" and "systemctl enable hugepfn-bind.service" in c["bindings"][0][2],
              "doctor, the rule installed, the unit not enabled: info, and how to enable it", c)
        wants = os.path.join(root, "etc/systemd/system/sysinit.target.wants")
        os.makedirs(wants)
        os.symlink("/lib/systemd/system/hugepfn-bind.service", os.path.join(wants, "hugepfn-bind.service"))
        _, c = self.doctor_at(root)
        check(c["bindings"][0][0] == "info" and "hugepfn-bind.service (enabled, but its link leads to no unit" in
              c["bindings"][0][1], "doctor, the unit's wants link dangling: not enabled", c)
        self.record(os.path.join(root, "lib/systemd/system"), "hugepfn-bind.service",
                    "[Service]\nExecStart=/usr/bin/hugepfn bind --apply-persistent\n")
        _, c = self.doctor_at(root)
        check(c["bindings"][0][0] == "ok", "doctor, the rule installed and the unit enabled: ok", c)
        os.symlink("/dev/null", os.path.join(root, "etc/systemd/system/hugepfn-bind.service"))
        _, c = self.doctor_at(root)
        check(c["bindings"][0][0] == "info" and "hugepfn-bind.service (masked)" in c["bindings"][0][1] and
              "systemctl unmask" in c["bindings"][0][2], "doctor, the unit enabled but masked: not started at boot", c)
        os.unlink(os.path.join(root, "etc/systemd/system/hugepfn-bind.service"))
        self.doctor_rule_overrides(root)

    def doctor_rule_overrides(self, root):
        """udev(7): a same-named file in /etc/udev/rules.d replaces the installed rule, masking it when
        empty or a link to /dev/null; one in /run/udev/rules.d is gone at the next boot."""
        etc = os.path.join(root, "etc/udev/rules.d")
        os.makedirs(etc)
        for what, make, status, found in (
                ("a link to /dev/null", lambda p: os.symlink("/dev/null", p), "warn", "(masked in /etc/udev/rules.d)"),
                ("an empty file", lambda p: open(p, "w").close(), "warn", "(masked in /etc/udev/rules.d)"),
                ("a file of other rules", lambda p: open(p, "w").write("# mine\n"), "warn", "(replaced in /etc/udev"),
                ("a copy of the rule", lambda p: open(p, "w").write("RUN+=\"hugepfn bind --apply-persistent $kernel\"\n"),
                 "ok", "")):
            make(os.path.join(etc, "61-hugepfn-bind.rules"))
            _, c = self.doctor_at(root)
            check(c["bindings"][0][0] == status and found in c["bindings"][0][1] and
                  (status == "ok" or "a device that appears later is not bound" in c["bindings"][0][1]),
                  f"doctor, /etc/udev/rules.d/61-hugepfn-bind.rules {what}: {status}", c)
            os.unlink(os.path.join(etc, "61-hugepfn-bind.rules"))
        os.unlink(os.path.join(root + self.udev_rules_dir, "61-hugepfn-bind.rules"))
        self.record(os.path.join(root, "run/udev/rules.d"), "61-hugepfn-bind.rules",
                    "RUN+=\"hugepfn bind --apply-persistent $kernel\"\n")
        _, c = self.doctor_at(root)
        check(c["bindings"][0][0] == "warn" and "(not installed) (/run/udev/rules.d's stands in for it until the next "
              "boot)" in c["bindings"][0][1], "doctor, the rule only in /run/udev/rules.d: it does not count for a boot", c)

    def test_doctor_groups(self):
        """A device recorded for vfio-pci, in an IOMMU group with a member a host driver holds."""
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "vfio-pci\n")
        bridge = "0000:00:1c.0"
        fake_sysfs.add_device(self.sys_root, bridge, 0x500000000, "pcieport")
        with open(os.path.join(self.sys_root, "bus/pci/devices", bridge, "class"), "w") as f:
            f.write("0x060400\n")
        try:
            for bdf in (DEV, "0000:00:06.0", "0000:00:07.0", bridge):
                fake_sysfs.set_iommu_group(self.sys_root, bdf, 7 if bdf != "0000:00:06.0" else 8)
            fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")
            _, c = self.doctor_at(root)
            g = c.get("binding-group", [("", "", "")])[0]
            check(g[0] == "warn" and f"{DEV}: recorded for vfio-pci, but its IOMMU group 7 also holds 0000:00:07.0 (nvme)"
                  in g[1] and bridge not in g[1] and "0000:00:06.0" not in g[1] and
                  "hugepfn bind --persist 0000:00:07.0 vfio-pci" in g[2],
                  "doctor: a vfio-pci record whose IOMMU group has a member on a host driver (bridges aside): warn", c)
            fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "vfio-pci")
            _, c = self.doctor_at(root)
            check("binding-group" not in c, "doctor: every other member on vfio-pci (or a bridge): no warning", c)
        finally:
            for bdf in (DEV, "0000:00:06.0", "0000:00:07.0"):
                fake_sysfs.set_iommu_group(self.sys_root, bdf, None)
            shutil.rmtree(os.path.join(self.sys_root, "bus/pci/devices", bridge))
            shutil.rmtree(os.path.join(self.sys_root, "kernel/iommu_groups"))
            fake_sysfs.set_driver(self.sys_root, "0000:00:07.0", "nvme")

    def test_doctor_fifo(self):
        """A FIFO for modules.dep (or a record) must not hang doctor."""
        root, d = self.new_install()
        mods = os.path.join(root, "lib/modules", os.uname().release)
        os.makedirs(mods)
        os.mkfifo(os.path.join(mods, "modules.dep"))
        r = self.run("doctor", "--root", root, timeout=30)
        check(r.rc == 0 and "ko-install" in r.out, "doctor with a FIFO as modules.dep: no hang", r)

    def test_unknown_state(self):
        """Only "no such device" is absence: a sysfs the library cannot read leaves the state unknown."""
        root, d = self.new_install()
        self.record(d, "pci-" + DEV, "hugepfn\n")
        empty = os.path.join(self.top, "nosys")
        os.makedirs(empty, exist_ok=True)
        r = self.run("--json", "bind", "--list-persistent", "--root", root, "--sysfs-root", empty, roots=False)
        rows = r.json.get("bindings", []) if isinstance(r.json, dict) else []
        check(rows and rows[0]["state"] == "unknown" and rows[0]["bound_to"] is None and "libpci" in rows[0]["detail"],
              "--list-persistent when sysfs cannot be read: 'unknown' with the library's detail, not 'absent'", r)
        r = self.run("--json", "doctor", "--root", root, "--sysfs-root", empty, roots=False)
        b = [c for c in r.json if c["check"] == "binding"] if isinstance(r.json, list) else []
        check(b and b[0]["status"] == "warn" and "is unknown" in b[0]["found"],
              "doctor when sysfs cannot be read: the binding's state unknown (warn), not absent", r)
        r = self.run("--json", "bind", "--list-persistent", "--root", root + "//")
        check(isinstance(r.json, dict) and r.json.get("directory") == d, "--root DIR// names the same tree as --root DIR", r)

    def restore_tree(self):
        """The fake devices as fake_sysfs.make_tree() made them, for the tests after."""
        for bdf, _, driver in fake_sysfs.DEVICES:
            fake_sysfs.set_driver(self.sys_root, bdf, driver)
            fake_sysfs.reset_writes(self.sys_root, bdf)
        shutil.rmtree(os.path.join(self.sys_root, "bus/pci/drivers/vfio-pci"), ignore_errors=True)

    def test_wrapper(self):
        check(not wrapper_errors, f"no run reported memory errors under the wrapper ({' '.join(WRAPPER) or 'none'})",
              "\n".join(wrapper_errors))

    def all(self):
        for name in ("version", "list", "info", "map", "peek_poke", "bench", "doctor", "bind",
                     "bench_device", "persist_record", "persist_list", "persist_refused", "persist_apply",
                     "persist_order", "persist_modprobe", "persist_cmdline", "persist_lock",
                     "persist_unbind", "persist_usage", "doctor_install", "doctor_groups", "doctor_fifo",
                     "unknown_state",
                     "bad_bdf_everywhere", "bad_numbers", "usage", "globals_anywhere", "wrapper"):
            getattr(self, "test_" + name)()
            # the records' tests bind and unbind the fake devices: back as they were
            if name.startswith(("persist", "doctor_", "unknown")):
                self.restore_tree()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: test_tool.py TOOL [UDEV_RULES_DIR]")
    with tempfile.TemporaryDirectory(prefix="hugepfn-tool-") as root:
        Tests(os.path.abspath(sys.argv[1]), root, sys.argv[2] if len(sys.argv) == 3 else None).all()
    print(f"1..{count}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What `meson install` gives a user, as TAP (the "install" test).

Usage: check_install.py --meson MESON --build-dir DIR --version VERSION
         --header HUGEPFN_H --pkg-config PKG_CONFIG --prefix P --bindir B
         --libdir L --includedir I --mandir M --completions-dir C
         --udev-rules-dir U --systemd-unit-dir S --records-dir R
         [--man | --no-man WHY] [--cross] -- CC [CFLAGS...]

Installs the build with `meson install --destdir` into a temporary
directory and checks what lands there, as a user of the machine would
meet it:
- the files: the tool, the shared and static library, hugepfn.h, the
  .pc file, the bash completion, the udev rules and the systemd unit,
  each in its place, and nothing outside the prefix and those three
  directories;
- programs built against the install through `pkg-config --cflags --libs
  libhugepfn` (PKG_CONFIG_SYSROOT_DIR=DESTDIR turns the .pc's paths into
  the DESTDIR's): linked with the shared library it runs from DESTDIR and
  reports the project's version, linked with the static library (--static)
  it needs no libhugepfn.so;
- with --man (the build made the manual pages; --no-man says why not,
  and these checks skip): a page for the tool, one for each command
  `hugepfn --help` lists and libhugepfn(3), each rendering without a
  groff warning, each page's usage and options those of the command's
  --help,
  every HUGEPFN_API function of the header described in libhugepfn(3),
  and its EXAMPLE program compiling and running;
- the completion: `bash -n`, and completing in a bash without
  bash-completion's helpers (and with them, where installed): commands,
  every command's options as its --help lists them, --backend and --width
  values, PCI addresses and carveouts from a fake sysfs tree;
- the udev rule: comments only (installing it grants nothing), its
  commented examples well-formed rules for the driver's node names;
- what binds recorded devices at boot (hugepfn bind --persist): the udev
  rule 61-hugepfn-bind.rules, one rule for PCI "add" events whose TEST is
  the install's records directory and whose RUN is the installed tool,
  and hugepfn-bind.service, a oneshot before sysinit.target running the
  installed tool (systemd-analyze verify where it takes --root); both
  commands as the installed tool accepts them.

A cross build (--cross) cannot run what it installs: the test skips.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "abi"))
from tap import Tap  # noqa: E402

tap = Tap()
result = tap.result


def parse_args():
    p = argparse.ArgumentParser()
    for opt in ("meson", "build-dir", "version", "header", "pkg-config", "prefix", "bindir", "libdir",
                "includedir", "mandir", "completions-dir", "udev-rules-dir", "systemd-unit-dir", "records-dir"):
        p.add_argument("--" + opt, required=True)
    p.add_argument("--man", action="store_true")
    p.add_argument("--no-man", metavar="WHY", help="why the build made no manual pages")
    p.add_argument("--cross", action="store_true")
    p.add_argument("cc", nargs="+")
    return p.parse_args()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Install:
    """The DESTDIR install and where each kind of file lies in it."""

    def __init__(self, a, destdir):
        self.a, self.d = a, destdir

    def path(self, d, *rest):
        """DESTDIR + a directory meson got (relative ones are the prefix's)."""
        absolute = d if os.path.isabs(d) else os.path.join(self.a.prefix, d)
        return os.path.join(self.d + absolute, *rest)

    def env(self):
        """What runs programs against the install: its shared library first."""
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [self.path(self.a.libdir)] + [p for p in [env.get("LD_LIBRARY_PATH")] if p])
        return env

    def tool(self, *args):
        return run([self.path(self.a.bindir, "hugepfn"), *args], env=self.env())


# ---- the files -------------------------------------------------------------

def check_files(inst):
    a = inst.a
    lib = inst.path(a.libdir)
    tool = inst.path(a.bindir, "hugepfn")
    result(os.access(tool, os.X_OK), f"the tool: {a.bindir}/hugepfn", [f"{tool} missing"])
    for name in ("libhugepfn.so.1", "libhugepfn.so", "libhugepfn.a"):
        result(os.path.exists(os.path.join(lib, name)), f"{name} in the libdir", [f"not in {lib}: {sorted(ls(lib))}"])
    header = inst.path(a.includedir, "hugepfn.h")
    result(os.path.exists(header) and open(header).read() == open(a.header).read(),
           "hugepfn.h in the includedir, as in the source tree", [f"{header} missing or different"])
    result(os.path.exists(os.path.join(lib, "pkgconfig", "libhugepfn.pc")), "libhugepfn.pc in LIBDIR/pkgconfig")
    completion = inst.path(a.completions_dir, "hugepfn")
    result(os.path.isfile(completion) and a.completions_dir.endswith("bash-completion/completions"),
           f"the bash completion, named for the command: {a.completions_dir}/hugepfn", [f"{completion} missing"])
    for name in ("60-hugepfn.rules", "61-hugepfn-bind.rules"):
        rule = inst.path(a.udev_rules_dir, name)
        result(os.path.isfile(rule) and a.udev_rules_dir.endswith("udev/rules.d"),
               f"the udev rule: {a.udev_rules_dir}/{name}", [f"{rule} missing"])
    unit = inst.path(a.systemd_unit_dir, "hugepfn-bind.service")
    result(os.path.isfile(unit) and a.systemd_unit_dir.endswith("systemd/system"),
           f"the systemd unit: {a.systemd_unit_dir}/hugepfn-bind.service", [f"{unit} missing"])
    allowed = [inst.path(d) for d in (a.prefix, a.completions_dir, a.udev_rules_dir, a.systemd_unit_dir)]
    stray = [f for f in walk(inst.d) if not any(f.startswith(d + os.sep) for d in allowed)]
    result(not stray, "nothing installed outside the prefix, the completion, the udev rule and the systemd unit "
           "directories", [f"stray: {f}" for f in stray])


def ls(d):
    return os.listdir(d) if os.path.isdir(d) else []


def walk(top):
    for root, _, files in os.walk(top):
        for f in files:
            yield os.path.join(root, f)


# ---- the tool's own word ------------------------------------------------------

class Help:
    """The installed tool's help texts: the commands, each one's options."""

    def __init__(self, inst):
        main = inst.tool("--help")
        self.ok = main.returncode == 0
        self.main = main.stdout
        block = re.search(r"^Commands:\n(.*?)\n\n", self.main, re.S | re.M)
        self.commands = list(dict.fromkeys(re.findall(r"^  ([a-z]+)\b", block.group(1) if block else "", re.M)))
        self.cmd = {c: inst.tool(c, "--help").stdout for c in self.commands}
        # a page's own options: the global ones for the tool's, each
        # command's usage and options (before the shared paragraphs) for its
        m = re.search(r"^Options, before or after the command:\n(.*?)\n\n", self.main, re.S | re.M)
        self.main_own = options(m.group(1) if m else "")
        self.cmd_own = {c: options(t.split("\nNumbers are decimal")[0]) for c, t in self.cmd.items()}
        bad = inst.tool("--backend", "?", "list").stderr
        m = re.search(r"is none of ([a-z, -]+)", bad)
        self.backends = m.group(1).strip().split(", ") if m else []
        m = re.search(r"--width ([0-9|]+)", self.cmd.get("peek", ""))
        self.widths = m.group(1).split("|") if m else []


def options(text):
    return set(re.findall(r"--[a-z0-9][a-z0-9-]*", text))


def check_tool(inst, h):
    result(h.ok and len(h.commands) >= 2, f"the installed tool's --help lists its commands: {' '.join(h.commands)}",
           [h.main])
    v = inst.tool("version")
    result(v.returncode == 0 and v.stdout.count(inst.a.version) == 2,
           f"the installed tool and its library are version {inst.a.version}", [v.stdout + v.stderr])
    result(h.backends and h.widths, "--backend's names and --width's values from the tool",
           [f"backends {h.backends}, widths {h.widths}"])


# ---- building against the install ---------------------------------------------

VERSION_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <hugepfn.h>

/* The library's version, and the file hugepfn_version() came from. */
int main(void)
{
	Dl_info info;

	if (!dladdr((void *)hugepfn_version, &info) || !info.dli_fname)
		return 1;
	printf("%s\n%s\n", hugepfn_version(), info.dli_fname);
	return 0;
}
"""


def pkg_config(inst, *args):
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = inst.path(inst.a.libdir, "pkgconfig")
    env["PKG_CONFIG_SYSROOT_DIR"] = inst.d
    p = run([inst.a.pkg_config, *args, "--cflags", "--libs", "libhugepfn"], env=env)
    what = f"pkg-config {' '.join(args + ('--cflags', '--libs'))} libhugepfn"
    if not result(p.returncode == 0, f"{what} works on the install", [p.stderr]):
        return None
    flags = p.stdout.split()
    want = ["-I" + inst.path(inst.a.includedir), "-L" + inst.path(inst.a.libdir)]
    result(all(w in flags for w in want), f"{what}: the DESTDIR's include and library directories",
           [f"want {want}, got {flags}"])
    return flags


def build(inst, src, name, flags):
    """Compile @src with @flags into the temporary directory; the program or None."""
    c, prog = os.path.join(inst.d, "..", name + ".c"), os.path.join(inst.d, "..", name)
    with open(c, "w", encoding="utf-8") as f:
        f.write(src)
    p = run(inst.a.cc + ["-Wall", "-Wextra", "-Werror", c, "-o", prog] + flags)
    return os.path.realpath(prog) if result(p.returncode == 0, f"{name} compiles and links", [p.stderr]) else None


def check_linking(inst):
    """Programs linked both ways; the shared link's flags, or None."""
    shared = flags = pkg_config(inst)
    prog = flags and build(inst, VERSION_C, "version-shared", flags)
    if prog:
        p = run([prog], env=inst.env())
        out = p.stdout.split("\n")
        result(p.returncode == 0 and out[0] == inst.a.version,
               f"linked with libhugepfn.so, it prints hugepfn_version() {inst.a.version}", [p.stdout + p.stderr])
        result(len(out) > 1 and out[1].startswith(inst.d) and "libhugepfn.so" in out[1],
               "... from the DESTDIR's libhugepfn.so", [f"hugepfn_version() came from {out[1:2]}"])
    flags = pkg_config(inst, "--static")
    # libpci comes shared only (Debian has no libpci.a): a static link of
    # libhugepfn takes its archive and the system's shared libraries.
    if flags:
        flags = [g for f in flags for g in (["-Wl,-Bstatic", f, "-Wl,-Bdynamic"] if f == "-lhugepfn" else [f])]
    prog = flags and build(inst, VERSION_C, "version-static", flags)
    if prog:
        p = run([prog])
        out = p.stdout.split("\n")
        result(p.returncode == 0 and out[0] == inst.a.version and out[1:2] == [prog],
               "linked with libhugepfn.a (--static), it runs without libhugepfn.so", [p.stdout + p.stderr])
    return shared


# ---- manual pages ----------------------------------------------------------------

def render(page):
    """The page as plain text, hyphenation off and hyphen glyphs as '-'."""
    p = run(["groff", "-man", "-Tutf8", "-rHY=0", "-P-cbou", page])
    text = p.stdout.translate({0x2010: "-", 0x2011: "-", 0x2212: "-", 0x2018: "'", 0x2019: "'"})
    return re.sub(r"-\n\s+", "-", text)


def check_page(inst, page):
    """Exists and renders without a warning; its text, or None."""
    if not result(os.path.isfile(page), f"{os.path.relpath(page, inst.d)} is installed"):
        return None
    p = run(["groff", "-man", "-Tutf8", "-ww", "-z", page])
    result(p.returncode == 0 and not p.stderr, f"{os.path.basename(page)} renders without warnings",
           [p.stderr])
    roff = open(page, encoding="utf-8").read()
    th = re.search(r"^\.TH .*", roff, re.M)
    result(th and inst.a.version in th.group(0), f"{os.path.basename(page)}: its footer names version "
           f"{inst.a.version}", [th.group(0) if th else "no .TH"])
    text = render(page)
    result(re.search(r"^EXAMPLES?$", text, re.M), f"{os.path.basename(page)} has examples")
    return text


def documented(text):
    """The options that head an entry of the page's OPTIONS section."""
    m = re.search(r"^OPTIONS\n(.*?)^\S", text, re.S | re.M)
    return options("\n".join(re.findall(r"^ {7}(-.*)$", m.group(1), re.M))) if m else set()


def usages(help_text):
    """The invocations a help text's Usage block gives, blanks normalized."""
    block = help_text.split("\n\n")[0].replace("Usage:", "", 1)
    return [" ".join(u.split()) for u in re.split(r"\s+(?=hugepfn )", block.strip())]


def check_command_page(name, text, help_text, own, known):
    """A command's page: its --help's usage in the SYNOPSIS, an entry for
    every option of @own, and no option outside @known."""
    m = re.search(r"^SYNOPSIS\n(.*?)^\S", text, re.S | re.M)
    synopsis = " ".join(m.group(1).split()) if m else ""
    missing = [u for u in usages(help_text) if u not in synopsis]
    result(synopsis and not missing, f"{name}: the SYNOPSIS has its --help's usage", [f"missing: {missing}"])
    got = documented(text)
    result(own and own <= got, f"{name}: an OPTIONS entry for every option its --help lists",
           [f"missing: {sorted(own - got)}"])
    unknown = options(text) - known
    result(not unknown, f"{name}: no option the tool's --help lacks", [f"unknown: {sorted(unknown)}"])
    result(re.search(r"^EXIT STATUS$", text, re.M), f"{name}: an EXIT STATUS section")


def check_tool_pages(inst, h):
    man1 = inst.path(inst.a.mandir, "man1")
    every = options(h.main).union(*map(options, h.cmd.values()))
    text = check_page(inst, os.path.join(man1, "hugepfn.1"))
    if text:
        check_command_page("hugepfn.1", text, h.main, h.main_own, every)
        missing = [c for c in h.commands if not re.search(rf"^ +{c}\b", text, re.M) or f"hugepfn-{c}(1)" not in text]
        result(not missing, "hugepfn.1: each command, with its page under SEE ALSO", [f"missing: {missing}"])
    for c in h.commands:
        text = check_page(inst, os.path.join(man1, f"hugepfn-{c}.1"))
        if text:
            check_command_page(f"hugepfn-{c}.1", text, h.cmd[c], h.cmd_own[c], options(h.cmd[c]) | h.main_own)


def api_functions(header):
    text = re.sub(r"/\*.*?\*/", " ", open(header, encoding="utf-8").read(), flags=re.S)
    return re.findall(r"\bHUGEPFN_API\b[^;(]*?\b(hugepfn_\w+)\s*\(", text)


def example(text):
    """The C program of the page's EXAMPLE section, dedented."""
    m = re.search(r"^EXAMPLE\n(.*?)^\S", text, re.S | re.M)
    code = re.search(r"^( *)#include.*?^\1\}$", m.group(1), re.S | re.M) if m else None
    if not code:
        return None
    return re.sub(rf"^{code.group(1)}", "", code.group(0), flags=re.M) + "\n"


def check_lib_page(inst, flags):
    text = check_page(inst, inst.path(inst.a.mandir, "man3", "libhugepfn.3"))
    if not text:
        return
    funcs = api_functions(inst.a.header)
    # "name()" is the prose's; the prototypes have their parameters
    missing = [f for f in funcs if not re.search(rf"\b{f}\(\)", text)]
    result(len(funcs) > 20 and not missing, f"libhugepfn.3 describes all {len(funcs)} HUGEPFN_API functions",
           [f"missing or without a description (NAME()): {missing}"])
    result("pkg-config --cflags --libs libhugepfn" in text, "libhugepfn.3: how to link, by the .pc's name")
    code = example(text)
    prog = result(code, "libhugepfn.3 has an EXAMPLE program") and flags and \
        build(inst, code, "libhugepfn.3-example", flags)
    if prog:
        p = run([prog], env=inst.env())
        result(p.returncode == 2 and "usage" in p.stderr, f"the example without arguments: usage, exit 2 "
               f"({p.returncode})", [p.stderr])
        p = run([prog, "0000:00:01.0x5", "0"], env=inst.env())
        result(p.returncode == 1 and "Invalid argument" in p.stderr,
               f"the example with a malformed address: its reason, exit 1 ({p.returncode})", [p.stderr])


def check_man(inst, h, flags):
    if not inst.a.man:
        result(True, f"manual pages # SKIP not built: {inst.a.no_man}")
        return
    if not result(shutil.which("groff"), "groff renders the manual pages (Debian: groff-base)"):
        return
    check_tool_pages(inst, h)
    check_lib_page(inst, flags)


# ---- bash completion ----------------------------------------------------------------

BREAKS = " \t\n\"'><=;|&(:"   # bash's default COMP_WORDBREAKS


def split_like_bash(line):
    """COMP_WORDS and COMP_CWORD as bash makes them: blanks, then ':' and '='."""
    words = [w for tok in line.split() for w in re.split(r"([:=])", tok) if w]
    if line.endswith(" "):
        words.append("")
    return words, len(words) - 1


def complete(path, line, *, plain=None, bash_completion=None):
    """COMPREPLY for @line (cursor at its end); @plain: COMP_WORDS alone."""
    q = shlex.quote
    words, cword = plain or split_like_bash(line)
    script = "\n".join([
        f"source {q(bash_completion)}" if bash_completion else "",
        f"source {q(path)}",
        "spec=$(complete -p hugepfn) || exit 3",
        "fn=${spec#*-F }; fn=${fn%% *}",
        "" if plain else f"COMP_WORDBREAKS={q(BREAKS)}; COMP_LINE={q(line)}; COMP_POINT=${{#COMP_LINE}}",
        f"COMP_WORDS=({' '.join(map(q, words))}); COMP_CWORD={cword}",
        f'"$fn" hugepfn {q(words[cword])} {q(words[cword - 1])}',
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    p = run(["bash", "--norc", "--noprofile", "-c", script])
    return [w for w in p.stdout.split("\n") if w] if p.returncode == 0 else [f"(exit {p.returncode}) {p.stderr}"]


def fake_sysfs(top):
    """Two PCI devices (BARs 0 and 2 used on one) and a carveout."""
    for bdf in ("0000:00:01.0", "0000:3b:00.1"):
        os.makedirs(os.path.join(top, "bus/pci/devices", bdf))
    with open(os.path.join(top, "bus/pci/devices/0000:00:01.0/resource"), "w") as f:
        f.write("0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n"
                "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                "0x0000000800000000 0x000000087fffffff 0x000000000014220c\n")
    os.makedirs(os.path.join(top, "class/hugepfn/carveout-buf"))
    os.makedirs(os.path.join(top, "class/hugepfn/pci-0000:00:01.0"))
    return ["0000:00:01.0", "0000:3b:00.1"]


def expect(path, line, want, sysfs=None, **kw):
    """Completing @line gives @want, in any order (@sysfs: shown as SYSFS)."""
    got = complete(path, line, **kw)
    shown = line.replace(sysfs, "SYSFS") if sysfs else line
    how = ", bash-completion loaded," if kw.get("bash_completion") else ""
    result(set(got) == set(want), f"completion of '{shown}'{how} gives {' '.join(sorted(want))}", [f"got: {got}"])


def check_completion(inst, h):
    path = inst.path(inst.a.completions_dir, "hugepfn")
    if not result(os.path.isfile(path), "the completion is installed"):
        return
    p = run(["bash", "-n", path])
    result(p.returncode == 0, "bash -n accepts it", [p.stderr])
    expect(path, "hugepfn ma", ["map"], plain=(["hugepfn", "ma"], 1))
    expect(path, "hugepfn ", h.commands)
    for c in h.commands:
        got = set(complete(path, f"hugepfn {c} --"))
        own, known = options(h.cmd[c]), options(h.cmd[c]) | h.main_own
        result(own <= got <= known, f"completion of 'hugepfn {c} --': its --help's options, no other",
               [f"missing: {sorted(own - got)}", f"unknown: {sorted(got - known)}"])
    expect(path, "hugepfn --backend ", h.backends)
    expect(path, "hugepfn --backend=vf", [b for b in h.backends if b.startswith("vf")])
    expect(path, "hugepfn peek 0000:00:01.0 0 0 --width ", h.widths)
    check_completion_sysfs(path)


def check_completion_sysfs(path):
    with tempfile.TemporaryDirectory() as top:
        bdfs = fake_sysfs(top)
        expect(path, f"hugepfn --sysfs-root {top} info ", bdfs + ["carveout:buf"], top)
        expect(path, f"hugepfn --sysfs-root={top} bind ", bdfs, top)
        expect(path, f"hugepfn --sysfs-root={top} bind {bdfs[0]} ", ["hugepfn", "vfio-pci"], top)
        # the record names the driver; --list-persistent takes no device
        expect(path, f"hugepfn --sysfs-root={top} bind --apply-persistent {bdfs[0]} ", [], top)
        expect(path, f"hugepfn --sysfs-root={top} bind --list-persistent ", [], top)
        expect(path, f"hugepfn --sysfs-root={top} bind --persist ", bdfs, top)
        expect(path, f"hugepfn --sysfs-root={top} unbind --persist ", bdfs, top)
        expect(path, f"hugepfn --sysfs-root {top} --root {top}/cl", [f"{top}/class"], top)
        # bash split "0000:00:0" at ':': readline replaces what follows the last one
        expect(path, f"hugepfn --sysfs-root {top} doctor 0000:00:0", ["01.0"], top)
        expect(path, f"hugepfn --sysfs-root {top} map 0000:00:01.0 ", ["0", "2"], top)
        helpers = "/usr/share/bash-completion/bash_completion"
        if os.path.isfile(helpers):
            expect(path, f"hugepfn --sysfs-root {top} info 0000:00:0", ["01.0"], top, bash_completion=helpers)
        else:
            result(True, f"completion with bash-completion loaded # SKIP no {helpers}")


# ---- the udev rule -------------------------------------------------------------------

RULE_TOKEN = re.compile(r'^([A-Z_]+)(\{[^}]*\})?(==|!=|\+=|-=|:=|=)"([^"]*)"$')
NODE_NAME = re.compile(r"^(pci-[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]|carveout-[^/\s]+)$")


def rule_ok(rule):
    """A commented example: well-formed, for hugepfn's nodes by their names."""
    toks = [RULE_TOKEN.match(t) for t in rule.split(", ")]
    if not all(toks):
        return False
    keys = {m.group(1): m.group(4) for m in toks}
    return keys.get("SUBSYSTEM") == "hugepfn" and NODE_NAME.match(keys.get("KERNEL", "")) and "MODE" in keys


def check_udev(inst):
    path = inst.path(inst.a.udev_rules_dir, "60-hugepfn.rules")
    if not result(os.path.isfile(path), "the udev rule is installed"):
        return
    lines = open(path, encoding="utf-8").read().splitlines()
    active = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    result(not active, "the udev rule is comments only: installed, it changes no node's owner, group or mode",
           [f"active: {ln}" for ln in active])
    examples = [ln.lstrip("#").strip() for ln in lines if re.match(r"^#\s*SUBSYSTEM==", ln)]
    bad = [r for r in examples if not rule_ok(r)]
    result(examples and not bad, f"its {len(examples)} commented example rules are well-formed, for "
           "SUBSYSTEM==\"hugepfn\" and a node's name", [f"malformed: {r}" for r in bad] or ["no examples"])
    check_udevadm(inst, examples)


def check_udevadm(inst, examples):
    udevadm = shutil.which("udevadm")
    if not udevadm or run([udevadm, "verify", "--help"]).returncode != 0:
        result(True, "udevadm verify # SKIP this udevadm has no verify (systemd < 253)")
        return
    f = os.path.join(inst.d, "..", "60-hugepfn-examples.rules")
    with open(f, "w", encoding="utf-8") as out:
        out.write("\n".join(examples) + "\n")
    for what, rules in (("the rule file", inst.path(inst.a.udev_rules_dir, "60-hugepfn.rules")),
                        ("its examples, uncommented", f)):
        # never: the examples' group need not exist on this machine
        p = run([udevadm, "verify", "--resolve-names=never", rules])
        result(p.returncode == 0, f"udevadm verify: {what}", [p.stdout + p.stderr])


# ---- what binds recorded devices at boot ------------------------------------------------

def installed_tool(inst):
    """The tool's path as the system will run it (bindir, absolute)."""
    d = inst.a.bindir if os.path.isabs(inst.a.bindir) else os.path.join(inst.a.prefix, inst.a.bindir)
    return os.path.join(d, "hugepfn")


def check_command(inst, what, command, bdf=None):
    """@command (the installed tool's path first) runs as the installed tool
    on an empty record tree: it accepts its arguments and finds nothing to do."""
    words = command.split()
    result(words and words[0] == installed_tool(inst) and os.access(inst.path(words[0]), os.X_OK),
           f"{what} runs the installed tool, {installed_tool(inst)}", [f"command: {command}"])
    with tempfile.TemporaryDirectory() as top:
        os.makedirs(os.path.join(top, "sys/bus/pci/devices"))
        args = [w.replace("$kernel", bdf) for w in words[1:]] if bdf else words[1:]
        p = inst.tool("--root", top, "--sysfs-root", os.path.join(top, "sys"), *args)
        result(p.returncode == 0 and "No binding is recorded in " + top + inst.a.records_dir in p.stdout,
               f"{what}: the installed tool takes '{' '.join(args)}' (nothing recorded: nothing to do)",
               [p.stdout + p.stderr])


def check_bind_rule(inst):
    path = inst.path(inst.a.udev_rules_dir, "61-hugepfn-bind.rules")
    if not result(os.path.isfile(path), "the bind udev rule is installed"):
        return
    active = [ln.strip() for ln in open(path, encoding="utf-8") if ln.strip() and not ln.lstrip().startswith("#")]
    toks = [RULE_TOKEN.match(t) for t in active[0].split(", ")] if len(active) == 1 else []
    keys = {m.group(1) + m.group(3): m.group(4) for m in toks if m}
    want = {"ACTION==": "add", "SUBSYSTEM==": "pci", "TEST==": inst.a.records_dir + "/pci-$kernel"}
    result(toks and all(toks) and all(keys.get(k) == v for k, v in want.items()) and set(keys) == set(want) | {"RUN+="},
           "61-hugepfn-bind.rules: one rule, for PCI add events with a record in " + inst.a.records_dir,
           [f"rules: {active}", f"keys: {keys}"])
    run_cmd = keys.get("RUN+=", "")
    result(run_cmd.endswith(" bind --apply-persistent $kernel"), "its RUN applies the device's record",
           [run_cmd])
    check_command(inst, "61-hugepfn-bind.rules", run_cmd, "0000:00:01.0")


def unit_keys(path):
    """KEY=VALUE of each [Section] of a unit file, as {"Section.Key": value}."""
    keys, section = {}, ""
    for ln in open(path, encoding="utf-8"):
        ln = ln.strip()
        if ln.startswith("[") and ln.endswith("]"):
            section = ln[1:-1]
        elif ln and not ln.startswith("#") and "=" in ln:
            k, v = ln.split("=", 1)
            keys[f"{section}.{k}"] = v
    return keys


def check_unit(inst):
    path = inst.path(inst.a.systemd_unit_dir, "hugepfn-bind.service")
    if not result(os.path.isfile(path), "hugepfn-bind.service is installed"):
        return
    k = unit_keys(path)
    want = {"Unit.DefaultDependencies": "no", "Service.Type": "oneshot", "Service.RemainAfterExit": "yes",
            "Install.WantedBy": "sysinit.target", "Unit.ConditionDirectoryNotEmpty": inst.a.records_dir}
    bad = [f"{key}={k.get(key)!r}, want {v!r}" for key, v in want.items() if k.get(key) != v]
    result(not bad, "hugepfn-bind.service: a oneshot before sysinit.target, skipped without records", bad)
    result("sysinit.target" in k.get("Unit.Before", "").split() and
           inst.a.records_dir in k.get("Unit.RequiresMountsFor", "").split(),
           "hugepfn-bind.service: Before=sysinit.target, and the records' mount first", [str(k)])
    check_command(inst, "hugepfn-bind.service", k.get("Service.ExecStart", ""))
    analyze = shutil.which("systemd-analyze")
    if not analyze or run([analyze, "verify", "--help"]).stdout.find("--root") < 0:
        result(True, "systemd-analyze verify # SKIP no systemd-analyze with verify --root here")
        return
    p = run([analyze, "verify", "--man=no", "--root=" + inst.d, path])
    result(p.returncode == 0 and not p.stderr.strip(), "systemd-analyze verify hugepfn-bind.service",
           [p.stdout + p.stderr])


# ---- main -----------------------------------------------------------------------------

def main():
    a = parse_args()
    if a.cross:
        print("1..0 # SKIP cross build: the installed tool and programs cannot run here")
        return
    with tempfile.TemporaryDirectory() as tmp:
        inst = Install(a, os.path.join(tmp, "destdir"))
        p = run(shlex.split(a.meson) + ["install", "-C", a.build_dir, "--destdir", inst.d, "--no-rebuild", "--quiet"])
        if result(p.returncode == 0, "meson install --destdir", [p.stdout + p.stderr]):
            check_files(inst)
            h = Help(inst)
            check_tool(inst, h)
            flags = check_linking(inst)
            check_man(inst, h, flags)
            check_completion(inst, h)
            check_udev(inst)
            check_bind_rule(inst)
            check_unit(inst)
    tap.done()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A fake sysfs (and /dev) tree that libhugepfn and the hugepfn tool can be
pointed at (struct hugepfn_ctx_opts, the tool's --sysfs-root/--dev-root),
so that host tests need no device, no driver and no root. libpci reads it
too, through sysfs.path = SYSFS_ROOT/bus/pci.

  python3 fake_sysfs.py DIR    # build DIR/sys and DIR/dev; prints both roots

From Python: make_tree(DIR) returns (sys_root, dev_root) with the three
devices below; add_device() adds another. The layout follows fake_device()
in test_lib.c: bus/pci/devices/BDF/{vendor,device,class,enable,numa_node,
irq,resource,resource0,resource0_wc,driver_override} and a driver symlink
into bus/pci/drivers/NAME, whose bind and unbind are plain files (a write
"succeeds" and changes nothing, so bind and unbind can run to the end).

  0000:00:05.0  no driver: opens through the sysfs backend; BAR0 is an
                8 MiB file (64-bit, prefetchable, at 0x200000000), BAR1 a
                64-byte I/O BAR
  0000:00:06.0  bound to hugepfn (BAR0 at 0x300000000)
  0000:00:07.0  bound to nvme (BAR0 at 0x400000000)
  carveout:buf  a hugepfn.ko carveout class device, with no node to open
"""
import os
import sys

BAR0_SIZE = 8 << 20

DEVICES = [
    ("0000:00:05.0", 0x200000000, None),
    ("0000:00:06.0", 0x300000000, "hugepfn"),
    ("0000:00:07.0", 0x400000000, "nvme"),
]


def _put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def _resource(bar0, size):
    """The resource file: BAR0 memory (64-bit, prefetchable), BAR1 I/O, 4 unused BARs and the ROM."""
    lines = [f"0x{bar0:016x} 0x{bar0 + size - 1:016x} 0x0000000000142208",
             "0x000000000000c000 0x000000000000c03f 0x0000000000040101"]
    lines += ["0x0000000000000000 0x0000000000000000 0x0000000000000000"] * 5
    return "\n".join(lines) + "\n"


def add_driver(sys_root, driver):
    """bus/pci/drivers/DRIVER with bind and unbind files: the driver is "loaded"."""
    d = os.path.join(sys_root, "bus/pci/drivers", driver)
    for attr in ("bind", "unbind"):
        _put(os.path.join(d, attr), "")
    return d


def add_device(sys_root, bdf, bar0, driver=None, bar0_size=BAR0_SIZE):
    """A PCI device at BDF whose BAR0 is a sparse file of @bar0_size bytes at physical @bar0."""
    d = os.path.join(sys_root, "bus/pci/devices", bdf)
    for name, text in (("vendor", "0x1af4\n"), ("device", "0x1110\n"), ("class", "0x050000\n"),
                       ("enable", "1\n"), ("numa_node", "0\n"), ("irq", "0\n"),
                       ("driver_override", "(null)\n"), ("resource", _resource(bar0, bar0_size))):
        _put(os.path.join(d, name), text)
    with open(os.path.join(d, "resource0"), "wb") as f:
        f.truncate(bar0_size)
    os.chmod(os.path.join(d, "resource0"), 0o600)
    os.link(os.path.join(d, "resource0"), os.path.join(d, "resource0_wc"))
    if driver:
        os.symlink(add_driver(sys_root, driver), os.path.join(d, "driver"))
    return d


def make_tree(root):
    """DIR/sys and DIR/dev with the devices above; returns (sys_root, dev_root)."""
    sys_root, dev_root = os.path.join(root, "sys"), os.path.join(root, "dev")
    os.makedirs(os.path.join(sys_root, "bus/pci/devices"), exist_ok=True)
    os.makedirs(dev_root, exist_ok=True)
    _put(os.path.join(sys_root, "bus/pci/drivers_probe"), "")
    for bdf, bar0, driver in DEVICES:
        add_device(sys_root, bdf, bar0, driver)
    os.makedirs(os.path.join(sys_root, "class/hugepfn/carveout-buf"), exist_ok=True)
    _put(os.path.join(sys_root, "kernel/mm/transparent_hugepage/enabled"), "always [madvise] never\n")
    _put(os.path.join(sys_root, "kernel/mm/transparent_hugepage/hpage_pmd_size"), "2097152\n")
    return sys_root, dev_root


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: fake_sysfs.py DIR (a directory to create the tree in)")
    sys_root, dev_root = make_tree(sys.argv[1])
    print(f"--sysfs-root {sys_root} --dev-root {dev_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

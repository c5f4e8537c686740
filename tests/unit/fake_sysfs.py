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
"succeeds" and changes nothing, so bind and unbind can run to the end; a
test reads what was written, and set_driver() then plays the kernel's
part, moving the device's driver link). WriteLog records the order of the
writes to those attributes (inotify), set_iommu_group() puts a device in
an IOMMU group.

  0000:00:05.0  no driver: opens through the sysfs backend; BAR0 is an
                8 MiB file (64-bit, prefetchable, at 0x200000000), BAR1 a
                64-byte I/O BAR
  0000:00:06.0  bound to hugepfn (BAR0 at 0x300000000)
  0000:00:07.0  bound to nvme (BAR0 at 0x400000000)
  carveout:buf  a hugepfn.ko carveout class device, with no node to open
"""
import ctypes
import glob
import os
import struct
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


def set_driver(sys_root, bdf, driver):
    """What the kernel does once a bind took: the device's driver link now
    names @driver (None: no driver)."""
    link = os.path.join(sys_root, "bus/pci/devices", bdf, "driver")
    if os.path.islink(link):
        os.unlink(link)
    if driver:
        os.symlink(add_driver(sys_root, driver), link)


def reset_writes(sys_root, bdf):
    """Forget what bind and unbind wrote: an unset driver_override, empty
    bind and unbind files of every driver."""
    with open(os.path.join(sys_root, "bus/pci/devices", bdf, "driver_override"), "w") as f:
        f.write("(null)\n")
    drivers = os.path.join(sys_root, "bus/pci/drivers")
    for d in os.listdir(drivers):
        for attr in ("bind", "unbind"):
            open(os.path.join(drivers, d, attr), "w").close()


def set_iommu_group(sys_root, bdf, group):
    """@bdf's iommu_group link to kernel/iommu_groups/GROUP, as the kernel
    makes it (None: no group)."""
    link = os.path.join(sys_root, "bus/pci/devices", bdf, "iommu_group")
    if os.path.islink(link):
        os.unlink(link)
    if group is not None:
        d = os.path.join(sys_root, "kernel/iommu_groups", str(group))
        os.makedirs(os.path.join(d, "devices"), exist_ok=True)
        # relative, as the kernel's: libpci resolves the link from the device's directory
        os.symlink(os.path.relpath(d, os.path.dirname(link)), link)


class WriteLog:
    """The writes to the tree's driver_override, bind, unbind and
    drivers_probe files, in the order they were made: one inotify queue
    keeps the order of the events of all of them. Attributes made after
    the log started (a driver loaded later) are not in it.

      log = WriteLog(sys_root); ...run the tool...; log.writes() -> ["REL", ...]
    """
    IN_MODIFY, IN_CLOSE_WRITE = 0x2, 0x8

    def __init__(self, sys_root):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.names = {}
        for pattern in ("bus/pci/devices/*/driver_override", "bus/pci/drivers/*/bind", "bus/pci/drivers/*/unbind",
                        "bus/pci/drivers_probe"):
            for path in glob.glob(os.path.join(sys_root, pattern)):
                # IN_MODIFY too: inotify merges an event with the one before it when they are the same,
                # so two writes in a row to one file would log as one without it
                wd = self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_MODIFY | self.IN_CLOSE_WRITE)
                self.names[wd] = os.path.relpath(path, sys_root)

    def writes(self):
        """The attributes written to since the start (or the last call), in order; closes nothing."""
        data = b""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        out, pos = [], 0
        while pos + 16 <= len(data):
            wd, mask, _cookie, length = struct.unpack_from("iIII", data, pos)
            if mask & self.IN_CLOSE_WRITE:
                out.append(self.names.get(wd, f"wd{wd}"))
            pos += 16 + length
        return out

    def close(self):
        os.close(self.fd)


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

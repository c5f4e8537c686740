/* SPDX-License-Identifier: GPL-2.0 */
/* A fake sysfs and /dev tree for the library's host unit tests. */
#ifndef HPFN_FAKE_TREE_H
#define HPFN_FAKE_TREE_H

#include <stddef.h>

struct hugepfn_ctx;

/* The tree's root (a mkdtemp directory), its sys/ and its dev/. */
extern char root[256], sysroot[300], devroot[300];

/* Make the tree: ROOT/sys/bus/pci/{devices,drivers}, ROOT/dev. 0 or -1. */
int fake_tree_init(void);
int fake_tree_remove(void);

/* Write @text to SYSROOT/@rel; make the directories SYSROOT/@rel. */
void put(const char *rel, const char *text);
/* SYSROOT/@rel's text in @buf, trailing newlines dropped ("" when missing). */
void get(const char *rel, char *buf, size_t size);
void mkdirs(const char *rel);
/* Remove SYSROOT/@rel and what it holds. */
void rm_fake(const char *rel);

/*
 * A PCI device with BAR0 8 MiB at @bar0 (prefetchable, 64-bit, a plain
 * file as resource0 and resource0_wc) and a 64-byte I/O BAR, bound to
 * @driver (or to nothing when NULL), memory decoding on.
 */
void fake_device(const char *bdf, unsigned long long bar0, const char *driver);

/*
 * The tree every library test starts from: 0000:00:05.0 bound to nothing,
 * 0000:00:06.0 to hugepfn, 0000:00:07.0 to nvme; a context on it (NULL
 * on failure).
 */
struct hugepfn_ctx *fake_tree_standard(void);

/* An empty file DEVROOT/@rel, its directories made. */
void dev_put(const char *rel);

#endif

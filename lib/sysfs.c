// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading and parsing the small text files the kernel provides in sysfs. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn_internal.h"

int hpfn_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (!size)
		return -EINVAL;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

int hpfn_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret = hpfn_read_text(path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	if (!ret)
		return -EINVAL;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* One "0x%016llx 0x%016llx 0x%016llx" line: start, end, flags. */
static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	while (s < end && *s == ' ')
		s++;
	if (end - s < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	for (s += 2; s < end && isxdigit((unsigned char)*s); s++, digits++) {
		if (digits == 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower(*s) - 'a' + 10));
	}
	if (!digits)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_MEM_64	0x00100000

/*
 * Parse a PCI device's sysfs "resource" file into up to @max BARs. Returns
 * the number of lines parsed, or -EINVAL for text of another shape.
 */
int hpfn_parse_resource(const char *text, size_t len, struct hugepfn_bar *bars, size_t max)
{
	const char *p = text, *end = text + len;
	size_t n = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *lend = eol ? eol : end;
		uint64_t start, last, flags;

		if (parse_hex(&p, lend, &start) || parse_hex(&p, lend, &last) ||
		    parse_hex(&p, lend, &flags))
			return -EINVAL;
		while (p < lend && *p == ' ')
			p++;
		if (p != lend || (last < start && (start || last)))
			return -EINVAL;
		if (n < max) {
			struct hugepfn_bar *b = &bars[n];

			memset(b, 0, sizeof(*b));
			if (last || start) {
				b->phys = start;
				b->size = last - start + 1;
				if (!b->size)
					return -EINVAL;	/* a range of 2^64 bytes */
			}
			if (flags & IORESOURCE_IO)
				b->flags |= HUGEPFN_BAR_IO;
			if (flags & IORESOURCE_MEM_64)
				b->flags |= HUGEPFN_BAR_MEM64;
			if (flags & IORESOURCE_PREFETCH)
				b->flags |= HUGEPFN_BAR_PREFETCH;
		}
		n++;
		p = eol ? eol + 1 : end;
	}
	return (int)n;
}

/* @n hex digits at @s, nothing else counted: the value, or -1. */
static long hex_field(const char *s, int n)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * "DDDD:BB:DD.F" or "BB:DD.F" -> canonical "DDDD:BB:DD.F": hex digits in
 * exactly those widths, device up to 1f, function up to 7, and nothing
 * else (no 0x, signs, blanks or trailing text: sscanf("%x") took all of
 * those, so "0000:00:01.0x5" named function 5).
 */
int hpfn_parse_bdf(const char *s, char *out, size_t size)
{
	long dom = 0, bus, dev, fn;
	size_t len = strlen(s);

	if (len == 12) {
		if (s[4] != ':')
			return -EINVAL;
		dom = hex_field(s, 4);
		s += 5;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (s[2] != ':' || s[5] != '.')
		return -EINVAL;
	bus = hex_field(s, 2);
	dev = hex_field(s + 3, 2);
	fn = hex_field(s + 6, 1);
	if (dom < 0 || bus < 0 || dev < 0 || dev > 0x1f || fn < 0 || fn > 7)
		return -EINVAL;
	if ((size_t)snprintf(out, size, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn) >= size)
		return -EINVAL;
	return 0;
}

int hpfn_pci_driver(const struct hugepfn_ctx *ctx, const char *bdf, char *buf, size_t size)
{
	char path[HPFN_PATH_MAX], link[HPFN_PATH_MAX];
	ssize_t n;
	const char *base;
	int ret = hpfn_sysfs_path(ctx, path, sizeof(path), "bus/pci/devices/%s/driver", bdf);

	if (ret)
		return ret;
	buf[0] = '\0';
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(buf, size, "%s", base ? base + 1 : link);
	return 0;
}

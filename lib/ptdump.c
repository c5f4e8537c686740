// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parser for the x86 debugfs page-table dump. A range line looks like
 *
 *   0x00007f0000000000-0x00007f0000200000           2M     USR RW     PCD PSE         NX pmd
 *
 * (start, end, size, up to eight attribute columns, level name). A range
 * that is not present has no attribute columns at all. Adjacent entries
 * with the same level and flags are merged by the kernel into one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hugepfn.h"
#include "ptdump.h"

static const struct {
	const char *name;
	unsigned int flag;
} flag_names[] = {
	{ "USR", HPFN_PTF_USER },  { "RW", HPFN_PTF_RW },
	{ "ro", 0 },		   { "PWT", HPFN_PTF_PWT },
	{ "PCD", HPFN_PTF_PCD },   { "PSE", HPFN_PTF_PSE },
	{ "PAT", HPFN_PTF_PAT },   { "GLB", HPFN_PTF_GLOBAL },
	{ "NX", HPFN_PTF_NX },	   { "x", 0 },
};

static const struct {
	const char *name;
	enum hpfn_pt_level level;
} level_names[] = {
	{ "pte", HPFN_PT_PTE }, { "pmd", HPFN_PT_PMD }, { "pud", HPFN_PT_PUD },
	{ "p4d", HPFN_PT_P4D }, { "pgd", HPFN_PT_PGD },
};

static int parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	if (s[0] != '0' || s[1] != 'x')
		return -EINVAL;
	s += 2;
	for (;; s++, digits++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		if (digits >= 16)
			return -EINVAL;
		v = (v << 4) | d;
	}
	if (!digits)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

static const char *next_token(const char *s, size_t *len)
{
	while (*s == ' ' || *s == '\t')
		s++;
	*len = strcspn(s, " \t\r\n");
	return s;
}

int hpfn_ptdump_parse_line(const char *line, struct hpfn_pt_run *run)
{
	const char *p = line, *tok;
	size_t len, i;
	int have_level = 0, have_access = 0;

	while (*p == ' ')
		p++;
	if (strncmp(p, "0x", 2) != 0)
		return 0;
	memset(run, 0, sizeof(*run));
	if (parse_hex(&p, &run->start) || *p++ != '-' ||
	    parse_hex(&p, &run->end))
		return -EINVAL;
	/* The last range of the address space ends at 2^64, printed as 0. */
	if (run->end == 0 && run->start != 0)
		run->end = UINT64_MAX;
	else if (run->end <= run->start)
		return -EINVAL;
	/* The size column ("2M", "4K") only repeats end - start: skip it. */
	tok = next_token(p, &len);
	if (!len || tok[0] < '0' || tok[0] > '9')
		return -EINVAL;
	p = tok + len;
	for (;;) {
		tok = next_token(p, &len);
		if (!len)
			break;
		p = tok + len;
		if (have_level)
			return -EINVAL;	/* nothing may follow the level */
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
			if (len == strlen(level_names[i].name) &&
			    !strncmp(tok, level_names[i].name, len)) {
				run->level = level_names[i].level;
				have_level = 1;
				break;
			}
		}
		if (have_level)
			continue;
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
			if (len == strlen(flag_names[i].name) &&
			    !strncmp(tok, flag_names[i].name, len)) {
				run->flags |= flag_names[i].flag;
				/* Every present entry prints RW or ro. */
				if (!strcmp(flag_names[i].name, "RW") ||
				    !strcmp(flag_names[i].name, "ro"))
					have_access = 1;
				break;
			}
		}
		if (i == sizeof(flag_names) / sizeof(flag_names[0]))
			return -EINVAL;
	}
	if (!have_level)
		return -EINVAL;
	if (have_access)
		run->flags |= HPFN_PTF_PRESENT;
	else if (run->flags)
		return -EINVAL;	/* attributes without RW/ro: not the format */
	if (!(run->flags & HPFN_PTF_PRESENT))
		run->level = HPFN_PT_NONE;
	return 1;
}

int hpfn_ptdump_collect(const char *text, size_t text_len, uint64_t start,
			uint64_t len, struct hpfn_pt_run *runs, size_t max)
{
	uint64_t end, covered;
	const char *p = text, *limit = text + text_len;
	char line[256];
	size_t n = 0;

	if (__builtin_add_overflow(start, len, &end) || !len)
		return -EINVAL;
	covered = start;
	while (p < limit) {
		const char *nl = memchr(p, '\n', limit - p);
		size_t l = nl ? (size_t)(nl - p) : (size_t)(limit - p);
		struct hpfn_pt_run run;
		int ret;

		if (l >= sizeof(line))
			return -EINVAL;
		memcpy(line, p, l);
		line[l] = '\0';
		p += l + 1;
		ret = hpfn_ptdump_parse_line(line, &run);
		if (ret < 0)
			return ret;
		if (!ret || run.end <= start || run.start >= end)
			continue;
		if (run.start > covered)
			return -ERANGE;	/* the dump skipped part of the range */
		if (run.start < start)
			run.start = start;
		if (run.end > end)
			run.end = end;
		if (run.end <= covered)
			continue;	/* a repeated or overlapping line */
		run.start = covered;
		covered = run.end;
		if (n < max)
			runs[n] = run;
		n++;
		if (n > INT32_MAX)
			return -E2BIG;
	}
	if (covered != end)
		return -ERANGE;
	return (int)n;
}

char *hpfn_read_whole(const char *path, size_t *len)
{
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap), *nbuf;
	int fd, err = 0;
	ssize_t r;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		free(buf);
		errno = err;
		return NULL;
	}
	for (;;) {
		if (used + 1 >= cap) {	/* room for the NUL */
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				err = ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		r = read(fd, buf + used, cap - used - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (!r)
			break;
		used += r;
	}
	close(fd);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

int hpfn_ptdump_read(const char *sysfs_root, uint64_t start, uint64_t len,
		     struct hpfn_pt_run *runs, size_t max)
{
	char path[512];
	size_t used;
	char *buf;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", sysfs_root, HPFN_PTDUMP_REL) >= sizeof(path))
		return -ENAMETOOLONG;
	buf = hpfn_read_whole(path, &used);
	if (!buf)
		return -errno;
	ret = hpfn_ptdump_collect(buf, used, start, len, runs, max);
	free(buf);
	return ret;
}

int hpfn_pt_cache_mode(unsigned int flags, int pat)
{
	static const int linux_pat[8] = {
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WC, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_UC,
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WP, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_WT,
	};
	static const int no_pat[4] = {
		HUGEPFN_CACHE_WB, HUGEPFN_CACHE_WT, HUGEPFN_CACHE_UC_MINUS, HUGEPFN_CACHE_UC,
	};
	unsigned int idx;

	if (!(flags & HPFN_PTF_PRESENT))
		return HUGEPFN_CACHE_UNKNOWN;
	idx = (flags & HPFN_PTF_PAT ? 4 : 0) | (flags & HPFN_PTF_PCD ? 2 : 0) |
	      (flags & HPFN_PTF_PWT ? 1 : 0);
	return pat ? linux_pat[idx] : no_pat[idx & 3];
}

int hpfn_pat_enabled(const char *sysfs_root)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", sysfs_root, HPFN_PAT_LIST_REL);
	if (access(path, F_OK) == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", sysfs_root, HPFN_DEBUGFS_X86_REL);
	return access(path, F_OK) == 0 ? 0 : -ENOENT;
}

const char *hpfn_pt_level_name(enum hpfn_pt_level level)
{
	switch (level) {
	case HPFN_PT_PTE: return "pte";
	case HPFN_PT_PMD: return "pmd";
	case HPFN_PT_PUD: return "pud";
	case HPFN_PT_P4D: return "p4d";
	case HPFN_PT_PGD: return "pgd";
	default: return "none";
	}
}

const char *hpfn_pt_level_size(enum hpfn_pt_level level)
{
	switch (level) {
	case HPFN_PT_PTE: return "4K";
	case HPFN_PT_PMD: return "2M";
	case HPFN_PT_PUD: return "1G";
	default: return "-";
	}
}

void hpfn_pt_flags_str(unsigned int flags, char *buf, size_t size)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} order[] = {
		{ HPFN_PTF_USER, "USR" }, { HPFN_PTF_RW, "RW" },
		{ HPFN_PTF_PWT, "PWT" },  { HPFN_PTF_PCD, "PCD" },
		{ HPFN_PTF_PSE, "PSE" },  { HPFN_PTF_PAT, "PAT" },
		{ HPFN_PTF_GLOBAL, "GLB" }, { HPFN_PTF_NX, "NX" },
	};
	size_t used = 0, i;

	if (!size)
		return;
	buf[0] = '\0';
	if (!(flags & HPFN_PTF_PRESENT)) {
		snprintf(buf, size, "not-present");
		return;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *name = order[i].name;

		if (order[i].flag == HPFN_PTF_RW && !(flags & HPFN_PTF_RW))
			name = "ro";
		else if (!(flags & order[i].flag))
			continue;
		used += snprintf(buf + used, size > used ? size - used : 0,
				 "%s%s", used ? " " : "", name);
		if (used >= size)
			return;
	}
}

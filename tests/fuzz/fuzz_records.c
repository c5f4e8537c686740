// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the records of 'hugepfn bind --persist'
 * (tools/records.c), which hugepfn bind --apply-persistent reads as root
 * at boot. The input is a file name, a NUL byte, then the file's
 * contents; the file is written into an empty records directory and read
 * back the way a boot reads it, for all records and for the device its
 * name gives. What must hold:
 *   - one entry, ignored or refused or valid, never two of these;
 *   - a valid record is named pci-<its canonical address> and holds
 *     exactly one driver line, hugepfn or vfio-pci, beside '#' comments
 *     and empty lines (checked against a second, plain reading here);
 *   - every refusal says why and what to do;
 *   - what is shown (name, error, advice) is printable ASCII, whatever
 *     bytes the name and contents held: it goes to terminals and journals.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hugepfn.h"
#include "tool.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static char dir[64];
static struct hugepfn_ctx *ctx;

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* The driver a record's text names by the rules, or NULL when it is refused. */
static const char *plain_driver(const char *text, size_t len)
{
	const char *driver = NULL, *s = text, *end = text + len;

	if (memchr(text, '\0', len))
		return NULL;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);

		if (n && s[0] != '#') {
			if (driver)
				return NULL;
			if (n == 7 && !memcmp(s, "hugepfn", 7))
				driver = "hugepfn";
			else if (n == 8 && !memcmp(s, "vfio-pci", 8))
				driver = "vfio-pci";
			else
				return NULL;
		}
		s += n + 1;
	}
	return driver;
}

static void check_record(const struct tool_record *r, const char *name, const char *text, size_t len)
{
	const char *want = len <= 4096 ? plain_driver(text, len) : NULL;
	char canon[16];

	REQUIRE(printable(r->name) && printable(r->error) && printable(r->advice));
	if (r->ignored) {
		REQUIRE(r->error[0] && !r->driver[0] && !r->bdf[0]);
		return;
	}
	if (r->error[0]) {
		REQUIRE(!r->driver[0] && r->advice[0]);
		/* refused although it is right: only when its name is not the canonical one */
		REQUIRE(!want || !r->bdf[0]);
		return;
	}
	REQUIRE(want && !strcmp(r->driver, want));
	REQUIRE(!tool_bdf(ctx, name + 4, canon) && !strcmp(r->bdf, canon) && !strcmp(name + 4, canon));
}

static void read_back(const char *name, const char *text, size_t len)
{
	struct tool_record *recs = NULL;
	struct tool_why why = { "", "" };
	char canon[16];
	int n = tool_records_read(ctx, dir, NULL, &recs, &why);

	REQUIRE(n == (name[0] == '.' ? 0 : 1));
	if (n == 1)
		check_record(&recs[0], name, text, len);
	free(recs);
	/* the udev rule's case: one device, by the address its name gives */
	if (strncmp(name, "pci-", 4) || tool_bdf(ctx, name + 4, canon))
		return;
	n = tool_records_read(ctx, dir, canon, &recs, &why);
	REQUIRE(n == (strcmp(name + 4, canon) ? 0 : 1));
	if (n == 1)
		check_record(&recs[0], name, text, len);
	free(recs);
}

/* libFuzzer ends with exit(): the directories go (each input's file went already). */
static void remove_dirs(void)
{
	char *slash;
	int i;

	for (i = 0; i < 3; i++) {
		rmdir(dir);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size < 200 ? size : 200);
	char name[256], path[sizeof(dir) + sizeof(name) + 1];
	size_t nlen, len;
	int fd;

	if (!ctx) {
		struct hugepfn_ctx_opts opts = { 0 };

		/* SYSCONFDIR/hugepfn/bind.d: the last two are checked as the tool's */
		snprintf(dir, sizeof(dir), "/tmp/fuzz-records-XXXXXX");
		REQUIRE(mkdtemp(dir));
		strcat(dir, "/hugepfn");
		REQUIRE(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
		strcat(dir, "/bind.d");
		REQUIRE(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0 && hugepfn_ctx_new(&opts, &ctx) == 0);
		atexit(remove_dirs);
	}
	if (!nul)
		return 0;
	nlen = (size_t)(nul - data);
	memcpy(name, data, nlen);
	name[nlen] = '\0';
	/* a name the file system takes */
	if (!nlen || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	len = size - nlen - 1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(len == 0 || write(fd, nul + 1, len) == (ssize_t)len);
	close(fd);
	read_back(name, (const char *)nul + 1, len);
	REQUIRE(unlink(path) == 0);
	return 0;
}

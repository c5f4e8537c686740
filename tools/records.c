// SPDX-License-Identifier: GPL-2.0
/*
 * The files behind the bindings recorded for every boot (persist.c has the
 * commands): SYSCONFDIR/hugepfn/bind.d/pci-DDDD:BB:DD.F holding the
 * driver's name, and the lock /run/hugepfn/bind.lock that the commands
 * using them take in turn.
 *
 * What a boot does as root comes from these files, so they are read as
 * sshd reads its StrictModes files: the directory and each record must be
 * owned by root (or by whoever runs the tool, who can only harm
 * themselves) and writable by nobody else; a record is a plain file,
 * opened without following a link, never a FIFO or a device node. Every
 * file is reached through the directory's descriptor (openat, renameat,
 * unlinkat), so that no path component swapped for a link meanwhile
 * redirects a write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#ifndef HUGEPFN_SYSCONFDIR
#error "HUGEPFN_SYSCONFDIR comes from the build (tools/meson.build)"
#endif

#define RECORD_MAX 4096		/* bytes a record may hold: one line, and comments */
#define LOCK_WAIT_S 30		/* how long a command waits for the lock: udev's worker must not hang */

int tool_records_dir(const struct tool_args *a, char *buf, size_t size)
{
	return tool_rooted(a, buf, size, "%s/hugepfn/bind.d", HUGEPFN_SYSCONFDIR);
}

/*
 * The address as the library takes it, canonical. The grammar is the
 * library's alone: hugepfn_pci_info() refuses (-EINVAL) what it does not
 * take, and spells a device that exists canonically. A record may name a
 * device that is not there; its address, accepted by the library, only
 * needs the domain it may lack and lowercase digits, which is spelling,
 * not parsing.
 */
int tool_bdf(struct hugepfn_ctx *ctx, const char *s, char out[16])
{
	struct hugepfn_pci_info info;
	int ret = hugepfn_pci_info(ctx, s, &info), i;

	if (ret == -EINVAL)
		return -EINVAL;
	if (!ret)
		return tool_format(out, 16, "%s", info.bdf);
	if (tool_format(out, 16, "%s%s", strlen(s) == 7 ? "0000:" : "", s))
		return -EINVAL;
	for (i = 0; out[i]; i++)
		out[i] = out[i] >= 'A' && out[i] <= 'F' ? (char)(out[i] - 'A' + 'a') : out[i];
	return 0;
}

/* A file name for messages and JSON: printable ASCII as is, other bytes as \xNN. */
static void shown_name(const char *raw, char *buf, size_t size)
{
	size_t i = 0;
	const unsigned char *s = (const unsigned char *)raw;

	for (; *s && i + 5 < size; s++) {
		if (*s >= ' ' && *s < 0x7f && *s != '\\')
			buf[i++] = (char)*s;
		else
			i += (size_t)snprintf(buf + i, size - i, "\\x%02x", *s);
	}
	buf[i] = '\0';
}

/* @line (up to its newline) for a message: at most 40 bytes, odd bytes as '?'. */
static const char *shown(const char *line, size_t len, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < len && i + 1 < size && i < 40; i++)
		buf[i] = line[i] >= ' ' && line[i] < 0x7f ? line[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * StrictModes: @st (of @path) owned by root or by us, writable by no one
 * else. 0, or -EPERM with what is wrong and what to do in @why.
 */
static int trusted(const struct stat *st, const char *path, struct tool_why *why)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		tool_format(why->detail, sizeof(why->detail), "%s is owned by uid %u, not root: a boot would bind as "
			    "another user wrote", path, (unsigned)st->st_uid);
		tool_format(why->advice, sizeof(why->advice), "chown root %s, if its content is yours", path);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		tool_format(why->detail, sizeof(why->detail), "%s is writable by %s (mode %04o): they could change "
			    "what a boot binds", path, st->st_mode & S_IWOTH ? "anyone" : "its group",
			    (unsigned)(st->st_mode & 07777));
		tool_format(why->advice, sizeof(why->advice), "chmod go-w %s", path);
		return -EPERM;
	}
	return 0;
}

static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) || S_ISBLK(mode) ?
	       "a device node" : S_ISSOCK(mode) ? "a socket" : "not a plain file";
}

/* ---- the directory ------------------------------------------------------------ */

/* One component of the records' path: made (0755 whatever the umask) when @create, opened. */
static int open_component(int at, const char *name, int create, int nofollow)
{
	int made = create && !mkdirat(at, name, 0755), fd;

	if (create && !made && errno != EEXIST)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	/* doctor, run by anyone, reads the records too */
	if (made)
		fchmod(fd, 0755);
	return fd;
}

/*
 * Open @dir component by component, making what is missing when @create.
 * The last two, hugepfn/bind.d, are the tool's: never a link, and each
 * root's and writable by no one else (renaming bind.d away is as good as
 * writing into it); those above (--root, SYSCONFDIR) are the system's,
 * followed as they are. A descriptor, or -errno (-EPERM with @why).
 */
static int walk_dir(const char *dir, int create, struct tool_why *why)
{
	char path[PATH_MAX], sofar[PATH_MAX] = "", *name, *save = NULL;
	int fd, nfd, left = 0, i, ret;
	struct stat st;

	if (tool_format(path, sizeof(path), "%s", dir))
		return -ENAMETOOLONG;
	for (i = 0; path[i]; i++)
		left += path[i] != '/' && (!i || path[i - 1] == '/');
	fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (name = strtok_r(path, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		tool_format(sofar + strlen(sofar), sizeof(sofar) - strlen(sofar), "%s%s", sofar[0] || dir[0] == '/' ?
			    "/" : "", name);
		nfd = open_component(fd, name, create, --left < 2);
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
		ret = left < 2 ? (fstat(fd, &st) ? -errno : trusted(&st, sofar, why)) : 0;
		if (ret) {
			close(fd);
			return ret;
		}
	}
	return fd;
}

int tool_records_open(const char *dir, int create, struct tool_why *why)
{
	int fd;

	why->detail[0] = why->advice[0] = '\0';
	fd = walk_dir(dir, create, why);
	if ((fd == -ENOENT && !create) || fd >= 0 || why->detail[0])
		return fd;
	tool_format(why->detail, sizeof(why->detail), "%s: %s%s", dir, strerror(-fd), fd == -ELOOP ||
		    fd == -ENOTDIR ? " (a symbolic link, or not a directory: the records' directory is a plain "
		    "directory)" : "");
	tool_format(why->advice, sizeof(why->advice), "%s", fd == -EACCES || fd == -EPERM || fd == -EROFS ?
		    (create ? "run as root, on a writable root file system" : "run as root") :
		    fd == -ELOOP || fd == -ENOTDIR ? "make it a directory of its own (not a link)" :
		    "fix what stands in the way and run again");
	return fd;
}

/* ---- reading ------------------------------------------------------------------- */

/*
 * Why @name is no record at all (a backup copy, another name: ignored with
 * a notice), or NULL for a pci-* name, which is read, or refused.
 */
static const char *not_a_record(const char *name)
{
	static const char *const backups[] = { "~", ".bak", ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".rpmsave",
					       ".rpmnew" };
	size_t n = strlen(name), i, k;

	for (i = 0; i < sizeof(backups) / sizeof(backups[0]); i++) {
		k = strlen(backups[i]);
		if (n > k && !strcmp(name + n - k, backups[i]))
			return "a backup copy, not a record";
	}
	return strncmp(name, "pci-", 4) ? "not a record (records are named pci-DDDD:BB:DD.F)" : NULL;
}

/* One record's lines: '#' comments and empty lines, and exactly one driver line. */
static void parse_lines(struct tool_record *r, const char *path, const char *text, size_t len)
{
	size_t pos = 0, n;
	char what[48];
	int line = 0;

	for (; pos < len && !r->error[0]; pos += n + 1) {
		const char *s = text + pos;

		n = strcspn(s, "\n");
		line++;
		if (!n || s[0] == '#')
			continue;
		if (s[n - 1] == '\r')
			tool_format(r->error, sizeof(r->error), "%s line %d ends in a carriage return (a DOS line "
				    "ending): a record is Unix text", path, line);
		else if (r->driver[0])
			tool_format(r->error, sizeof(r->error), "%s line %d: a second driver line ('%s'): a record "
				    "names one driver", path, line, shown(s, n, what, sizeof(what)));
		else if ((n == 7 && !strncmp(s, "hugepfn", 7)) || (n == 8 && !strncmp(s, "vfio-pci", 8)))
			tool_format(r->driver, sizeof(r->driver), "%.*s", (int)n, s);
		else
			tool_format(r->error, sizeof(r->error), "%s line %d: '%s' is not hugepfn or vfio-pci (a record "
				    "is one line, the driver's name, without blanks)", path, line,
				    shown(s, n, what, sizeof(what)));
		if (r->error[0] && s[n - 1] == '\r')
			tool_format(r->advice, sizeof(r->advice), "dos2unix %s", path);
	}
	if (!r->error[0] && !r->driver[0])
		tool_format(r->error, sizeof(r->error), "%s: no driver line (a record is one line: hugepfn or "
			    "vfio-pci)", path);
	if (r->error[0])
		r->driver[0] = '\0';
}

/* Open @raw in @dfd, a plain file of ours: the descriptor, or -1 with r->error said. */
static int open_record(struct tool_record *r, int dfd, const char *raw, const char *path)
{
	struct tool_why why;
	struct stat st, now;
	int fd;

	/* the type first: opening a FIFO blocks, opening a device node may do anything */
	if (fstatat(dfd, raw, &st, AT_SYMLINK_NOFOLLOW)) {
		tool_format(r->error, sizeof(r->error), "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		tool_format(r->error, sizeof(r->error), "%s is %s; records are plain files", path,
			    S_ISLNK(st.st_mode) ? "a symbolic link" : file_kind(st.st_mode));
		tool_format(r->advice, sizeof(r->advice), "%s", S_ISLNK(st.st_mode) ?
			    "put the record itself in its place (one line: hugepfn or vfio-pci), or remove the link" :
			    "move it out of the records' directory");
		return -1;
	}
	fd = openat(dfd, raw, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &now) || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		tool_format(r->error, sizeof(r->error), "%s: %s", path, fd < 0 ? strerror(errno) :
			    "replaced while being read");
		tool_format(r->advice, sizeof(r->advice), "run again");
	} else if (trusted(&now, path, &why)) {
		tool_format(r->error, sizeof(r->error), "%s", why.detail);
		tool_format(r->advice, sizeof(r->advice), "%s", why.advice);
	} else if (now.st_size > RECORD_MAX) {
		tool_format(r->error, sizeof(r->error), "%s: over 4096 bytes: a record is one line, the driver's "
			    "name", path);
	} else {
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static void read_record(struct tool_record *r, int dfd, const char *raw, const char *path)
{
	char text[RECORD_MAX + 1];
	int fd = open_record(r, dfd, raw, path), err;
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, text, sizeof(text));
	err = errno;
	close(fd);
	if (n < 0 || n > RECORD_MAX || memchr(text, '\0', n > 0 ? (size_t)n : 0)) {
		tool_format(r->error, sizeof(r->error), "%s: %s", path, n < 0 ? strerror(err) :
			    n > RECORD_MAX ? "over 4096 bytes: a record is one line, the driver's name" :
			    "holds a NUL byte: a record is text");
		return;
	}
	text[n] = '\0';		/* the lines are read with strcspn() */
	parse_lines(r, path, text, (size_t)n);
}

/* The entry @raw of @dir (@dfd): its name must be the device's own, as udev's $kernel. */
static void record_parse(struct hugepfn_ctx *ctx, int dfd, const char *dir, const char *raw, struct tool_record *r)
{
	char path[PATH_MAX + sizeof(r->name)], canon[16];
	const char *notice = not_a_record(raw);

	memset(r, 0, sizeof(*r));
	shown_name(raw, r->name, sizeof(r->name));
	tool_format(path, sizeof(path), "%s/%s", dir, r->name);
	if (notice) {
		r->ignored = 1;
		tool_format(r->error, sizeof(r->error), "%s: ignored, %s", path, notice);
		tool_format(r->advice, sizeof(r->advice), "move it out of %s", dir);
		return;
	}
	if (tool_bdf(ctx, raw + 4, canon)) {
		tool_format(r->error, sizeof(r->error), "%s: not a record (records are named pci-DDDD:BB:DD.F, "
			    "lowercase hex)", path);
		tool_format(r->advice, sizeof(r->advice), "move it out of %s", dir);
		return;
	}
	if (strcmp(raw + 4, canon)) {
		tool_format(r->error, sizeof(r->error), "%s: name it pci-%s (udev looks for the device's own name: "
			    "lowercase hex, with the domain)", path, canon);
		tool_format(r->advice, sizeof(r->advice), "mv %s %s/pci-%s", path, dir, canon);
		return;
	}
	tool_format(r->bdf, sizeof(r->bdf), "%s", canon);
	read_record(r, dfd, raw, path);
	if (r->error[0] && !r->advice[0])
		tool_format(r->advice, sizeof(r->advice), "fix it (one line: hugepfn or vfio-pci) or remove it: "
			    "hugepfn unbind --persist %s", canon);
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct tool_record *)x)->name, ((const struct tool_record *)y)->name);
}

/* Every entry of @dfd but dot files (a record being written): the count, or -errno. */
static int read_all(struct hugepfn_ctx *ctx, int dfd, const char *dir, struct tool_record **out)
{
	struct tool_record *recs = NULL, *more;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			more = realloc(recs, cap * sizeof(*recs));
			if (!more) {
				free(recs);
				closedir(d);
				return -ENOMEM;
			}
			recs = more;
		}
		record_parse(ctx, dfd, dir, de->d_name, &recs[n++]);
	}
	closedir(d);
	if (n)
		qsort(recs, n, sizeof(*recs), by_name);
	*out = recs;
	return (int)n;
}

int tool_records_read(struct hugepfn_ctx *ctx, const char *dir, const char *bdf, struct tool_record **out,
		      struct tool_why *why)
{
	char name[32];
	struct stat st;
	int dfd = tool_records_open(dir, 0, why), n = 0;

	*out = NULL;
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	if (!bdf) {
		n = read_all(ctx, dfd, dir, out);
		if (n < 0)
			tool_format(why->detail, sizeof(why->detail), "%s: %s", dir, strerror(-n));
	} else if (!tool_format(name, sizeof(name), "pci-%s", bdf) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
		   errno == ENOENT) {
		n = 0;		/* one device (the udev rule's case), and it has no record */
	} else {
		*out = calloc(1, sizeof(**out));
		n = *out ? 1 : -ENOMEM;
		if (*out)
			record_parse(ctx, dfd, dir, name, *out);
	}
	close(dfd);
	return n;
}

/* ---- writing ---------------------------------------------------------------------- */

/* A temporary name of @bdf's record: a dot file (readers skip it), random, so that O_EXCL can create it. */
static void temp_name(char *buf, size_t size, const char *bdf)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = tool_now_ns() ^ (uint64_t)getpid() << 40;
	tool_format(buf, size, ".pci-%s.%012llx", bdf, (unsigned long long)(r & 0xffffffffffffULL));
}

int tool_record_write(int dfd, const char *bdf, const char *driver, const char **step)
{
	char tmp[64], name[32], line[32];
	int fd = -1, ret = 0, len = snprintf(line, sizeof(line), "%s\n", driver), i;

	tool_format(name, sizeof(name), "pci-%s", bdf);
	*step = "create a temporary file";
	for (i = 0; fd < 0 && i < 100; i++) {
		temp_name(tmp, sizeof(tmp), bdf);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	*step = "write the record";
	errno = 0;
	/* 0644 whatever the umask: doctor, run by anyone, reads the records */
	if (fchmod(fd, 0644) || write(fd, line, (size_t)len) != len || fsync(fd))
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	*step = "rename it into place";
	if (!ret && renameat(dfd, tmp, dfd, name))
		ret = -errno;
	if (ret) {
		unlinkat(dfd, tmp, 0);
		return ret;
	}
	/* a renamed entry survives a crash only once its directory is synced */
	fsync(dfd);
	return 0;
}

int tool_record_remove(int dfd, const char *bdf)
{
	char name[32];

	tool_format(name, sizeof(name), "pci-%s", bdf);
	if (unlinkat(dfd, name, 0))
		return -errno;
	fsync(dfd);
	return 0;
}

/* ---- the lock -------------------------------------------------------------------------- */

/* HUGEPFN_LOCK_TIMEOUT (seconds, for the tests), else LOCK_WAIT_S. */
static unsigned int lock_wait_s(void)
{
	const char *s = getenv("HUGEPFN_LOCK_TIMEOUT");
	char *end;
	unsigned long v;

	if (!s || !*s || *s < '0' || *s > '9')
		return LOCK_WAIT_S;
	v = strtoul(s, &end, 10);
	return *end || v > 3600 ? LOCK_WAIT_S : (unsigned int)v;
}

/* [--root]/run/hugepfn, the user's own (0700), opened: a descriptor or -errno with @why. */
static int lock_dir(const struct tool_args *a, struct tool_why *why)
{
	char run[PATH_MAX], dir[PATH_MAX];
	struct stat st = { 0 };
	int fd = -ENAMETOOLONG;

	if (!tool_rooted(a, run, sizeof(run), "/run") && !tool_rooted(a, dir, sizeof(dir), "/run/hugepfn")) {
		if (a->root)
			mkdir(run, 0755);	/* an image or a test tree may have no /run yet */
		fd = mkdir(dir, 0700) && errno != EEXIST ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
								     O_CLOEXEC);
		fd = fd < 0 ? -errno : fd;
	}
	if (fd < 0) {
		tool_format(why->detail, sizeof(why->detail), "%s: %s", dir, strerror(-fd));
		tool_format(why->advice, sizeof(why->advice), "%s", fd == -EACCES || fd == -EPERM || fd == -EROFS ?
			    "run as root" : fd == -ENOENT ? "this system has no /run (systemd mounts a tmpfs there at "
			    "boot): create it and run again" : "fix what stands in the way and run again");
		return fd;
	}
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		tool_format(why->detail, sizeof(why->detail), "%s is not this user's own directory (uid %u, mode "
			    "%04o): someone else could hold the lock", dir, (unsigned)st.st_uid,
			    (unsigned)(st.st_mode & 07777));
		tool_format(why->advice, sizeof(why->advice), "rm -r %s, and run again", dir);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * Take the lock: a file of root's own directory, not the records'
 * directory, which anyone can open and flock() to hang every boot-time
 * apply. The wait is bounded, as udev gives its workers no forever.
 */
int tool_lock(const struct tool_args *a, struct tool_why *why)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	unsigned int wait_s = lock_wait_s();
	uint64_t deadline = tool_now_ns() + wait_s * 1000000000ULL;
	int dfd = lock_dir(a, why), fd, err;
	char path[PATH_MAX];

	if (dfd < 0)
		return dfd;
	tool_rooted(a, path, sizeof(path), "/run/hugepfn/bind.lock");
	fd = openat(dfd, "bind.lock", O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	err = errno;
	close(dfd);
	if (fd < 0) {
		tool_format(why->detail, sizeof(why->detail), "%s: %s", path, strerror(err));
		tool_format(why->advice, sizeof(why->advice), "run as root");
		return -err;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || tool_now_ns() >= deadline) {
			tool_format(why->detail, sizeof(why->detail), "another hugepfn bind or unbind has held %s for "
				    "%u s (the udev rule and hugepfn-bind.service take turns with it)", path, wait_s);
			tool_format(why->advice, sizeof(why->advice), "wait for it to finish and run again ('fuser -v "
				    "%s' names who holds it)", path);
			close(fd);
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
	}
	return fd;
}

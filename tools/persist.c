// SPDX-License-Identifier: GPL-2.0
/*
 * Bindings recorded for every boot: hugepfn bind --persist writes
 * SYSCONFDIR/hugepfn/bind.d/pci-DDDD:BB:DD.F holding the driver's name
 * (as driverctl keeps /etc/driverctl.d/pci-BDF), unbind --persist removes
 * it, bind --list-persistent shows them and bind --apply-persistent makes
 * them: at boot the udev rule (tools/udev/61-hugepfn-bind.rules.in) runs it
 * for each recorded device as it appears, hugepfn-bind.service for all.
 * records.c reads and writes the files, and keeps the lock every command
 * here that binds or changes a record takes first, so that the rule, the
 * unit and an admin never interleave their writes to one device.
 *
 * The records are the tool's, not the library's: the library binds
 * (hugepfn_pci_bind()), and what a machine should do at boot is policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

#define MODPROBE "/sbin/modprobe"	/* the kernel's own default (/proc/sys/kernel/modprobe) */

static int fail_why(const struct tool_args *a, int err, const char *what, const struct tool_why *why)
{
	return tool_fail_msg(a, err, what, why->detail, why->advice[0] ? why->advice : NULL);
}

/* The notices of entries that are no record (a README, a backup copy): on stderr, nothing refused. */
static void notices(const struct tool_args *a, const struct tool_record *recs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (recs[i].ignored)
			fprintf(stderr, "hugepfn %s: note: %s -> %s\n", a->cmd_name, recs[i].error, recs[i].advice);
}

/* A small text file (sysfs, /proc), its last newline cut: its length, or -errno. */
static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), err;
	struct stat st;
	ssize_t n = -1;

	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		n = read(fd, buf, size - 1);
	err = n < 0 ? (errno ? errno : EINVAL) : 0;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}

/* ---- bind --persist --------------------------------------------------------------- */

static void bind_persist_out(const struct tool_args *a, const char *bdf, const char *path)
{
	struct json_object *o;

	if (!a->json) {
		printf("%s bound to %s\nrecorded in %s: bound so at every boot ('hugepfn unbind --persist %s' forgets "
		       "it)\n", bdf, a->driver, path, bdf);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "device", json_object_new_string(bdf));
	json_object_object_add(o, "driver", json_object_new_string(a->driver));
	json_object_object_add(o, "record", json_object_new_string(path));
	tool_json_print(o);
}

/* Bind, and record once bound (a record that never worked would fail every boot), holding the lock. */
static int bind_and_record(struct hugepfn_ctx *ctx, const struct tool_args *a, const char *bdf, int exists,
			   const char *dir)
{
	char path[PATH_MAX + 32], what[PATH_MAX + 96];
	struct tool_why why;
	const char *step;
	/* the directory first: a binding that cannot be recorded is not made */
	int dfd = tool_records_open(dir, 1, &why), ret;

	if (dfd < 0)
		return fail_why(a, dfd, "bind --persist: the records' directory (nothing was bound)", &why);
	tool_format(path, sizeof(path), "%s/pci-%s", dir, bdf);
	ret = hugepfn_pci_bind(ctx, bdf, a->driver);
	if (ret) {
		ret = tool_bind_failed(ctx, a, ret, exists);
	} else if ((ret = tool_record_write(dfd, bdf, a->driver, &step))) {
		tool_format(what, sizeof(what), "record %s (bound now, but not for the next boot)", path);
		ret = tool_fail_msg(a, ret, what, step, ret == -EISDIR ? "it is a directory, not a record: move it "
				    "away and run 'hugepfn bind --persist' again" : ret == -EACCES || ret == -EPERM ||
				    ret == -EROFS ? "run as root, on a writable root file system; then 'hugepfn bind "
				    "--persist' again" : "fix what stands in the way and run 'hugepfn bind --persist' again");
	} else {
		bind_persist_out(a, bdf, path);
	}
	close(dfd);
	return ret;
}

typedef int (*locked_change)(struct hugepfn_ctx *ctx, const struct tool_args *a, const char *bdf,
			     int exists, const char *dir);

/*
 * The frame of bind --persist and unbind --persist: the device checked,
 * its canonical address and the records directory found, then @change
 * under the records lock. @what names the command in errors.
 */
static int persist_locked(struct hugepfn_ctx *ctx, const struct tool_args *a, const char *what,
			  locked_change change)
{
	char bdf[16], dir[PATH_MAX], msg[96];
	struct tool_why why;
	int exists, lock, ret = tool_check_dev(a, ctx, 1, &exists);

	if (ret)
		return ret;
	if (tool_bdf(ctx, a->dev, bdf) || tool_records_dir(a, dir, sizeof(dir)))
		return tool_fail_msg(a, -ENAMETOOLONG, what, "--root is too long", NULL);
	lock = tool_lock(a, &why);
	if (lock < 0) {
		snprintf(msg, sizeof(msg), "%s: take the lock (nothing was changed)", what);
		return fail_why(a, lock, msg, &why);
	}
	ret = change(ctx, a, bdf, exists, dir);
	close(lock);
	return ret;
}

int cmd_bind_persist(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	return persist_locked(ctx, a, "bind --persist", bind_and_record);
}

/* ---- unbind --persist ------------------------------------------------------------- */

static void unbind_out(const struct tool_args *a, const char *bdf, const char *path, int unbound,
		       const char *detail)
{
	struct json_object *o;

	if (a->json) {
		o = json_object_new_object();
		json_object_object_add(o, "device", json_object_new_string(bdf));
		json_object_object_add(o, "driver", json_object_new_string(""));
		json_object_object_add(o, "record", json_object_new_string(path));
		json_object_object_add(o, "removed", json_object_new_boolean(1));
		json_object_object_add(o, "unbound", json_object_new_boolean(unbound));
		json_object_object_add(o, "detail", json_object_new_string(detail));
		tool_json_print(o);
		return;
	}
	printf("%s: removed its record %s\n", bdf, path);
	printf("%s\n", unbound ? "unbound from the override; back to its usual driver" : detail);
}

/* @bdf's driver_override (read-only, from sysfs), "" when none. */
static void read_override(const struct tool_args *a, const char *bdf, char *buf, size_t size)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (tool_format(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
			a->sysfs_root ? a->sysfs_root : "/sys", bdf) || read_small(path, buf, size) < 0 ||
	    !strcmp(buf, "(null)"))
		buf[0] = '\0';
}

/*
 * Undo what the removed record @r made of its device, and only that: the
 * device bound to the recorded driver, or to none while its override
 * names it. A device bound to anything else is no record's doing (a typo
 * must not drop a live NVMe), nor one whose record was refused.
 */
static int unbind_recorded(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct tool_record *r,
			   const char *path)
{
	struct hugepfn_pci_info info;
	char over[64], detail[256], what[PATH_MAX + 96];
	int ret = hugepfn_pci_info(ctx, r->bdf, &info);

	if (ret == -ENOENT) {
		unbind_out(a, r->bdf, path, 0, "it is not there now: nothing to unbind");
		return 0;
	}
	if (ret)
		return tool_fail_ctx(a, ctx, ret, "unbind --persist: the record is removed, but what the device is "
				     "bound to is unknown (left as it is)");
	read_override(a, r->bdf, over, sizeof(over));
	if (!r->driver[0] || (strcmp(info.driver, r->driver) && (info.driver[0] || strcmp(over, r->driver)))) {
		tool_format(detail, sizeof(detail), "%s is bound to %s, not to %s as recorded: left as it is",
			    r->bdf, info.driver[0] ? info.driver : "no driver",
			    r->driver[0] ? r->driver : "a driver (the record was refused)");
		unbind_out(a, r->bdf, path, 0, detail);
		return 0;
	}
	ret = hugepfn_pci_unbind(ctx, r->bdf);
	if (!ret) {
		unbind_out(a, r->bdf, path, 1, "");
		return 0;
	}
	hugepfn_ctx_error(ctx, detail, sizeof(detail));
	tool_format(what, sizeof(what), "unbind %s (its record %s is removed: no boot binds it again)", r->bdf, path);
	tool_format(over, sizeof(over), "'hugepfn unbind %s' tries again", r->bdf);
	return tool_fail_msg(a, ret, what, detail, over);
}

/* Remove @r's file from @dir: 0, or the exit status after saying why. */
static int remove_record(const struct tool_args *a, const char *dir, const struct tool_record *r, const char *path)
{
	char what[PATH_MAX + 64], next[PATH_MAX + 128];
	struct tool_why why;
	int dfd = tool_records_open(dir, 0, &why), ret;

	if (dfd < 0)
		return fail_why(a, dfd, "unbind --persist: the records' directory", &why);
	ret = tool_record_remove(dfd, r->bdf);
	close(dfd);
	if (!ret)
		return 0;
	tool_format(what, sizeof(what), "remove the record %s", path);
	if (ret == -EISDIR)
		tool_format(next, sizeof(next), "it is a directory, not a record (no boot binds from it): move it out "
			    "of %s", dir);
	else
		tool_format(next, sizeof(next), "%s", ret == -EACCES || ret == -EPERM || ret == -EROFS ?
			    "run as root, on a writable root file system" : "fix what stands in the way and run again");
	return tool_fail_msg(a, ret, what, "", next);
}

/* The record goes first: what the user wants is that boots stop binding the device. */
static int forget(struct hugepfn_ctx *ctx, const struct tool_args *a, const char *bdf, int exists,
		  const char *dir)
{
	char path[PATH_MAX + 32], detail[PATH_MAX + 128];
	struct tool_record *r = NULL;
	struct tool_why why;
	int n = tool_records_read(ctx, dir, bdf, &r, &why), ret;

	tool_format(path, sizeof(path), "%s/pci-%s", dir, bdf);
	if (n < 0)
		return fail_why(a, n, "unbind --persist: read the record", &why);
	if (!n) {
		tool_format(detail, sizeof(detail), "no record %s%s", path, exists == 0 ? ", and no such PCI device" :
			    ": nothing to forget, and the device is left as it is");
		return tool_fail_msg(a, -ENOENT, "unbind --persist", detail, "'hugepfn bind --list-persistent' "
				     "shows the records; 'hugepfn unbind BDF' unbinds a device without one");
	}
	ret = remove_record(a, dir, r, path);
	if (!ret)
		ret = unbind_recorded(ctx, a, r, path);
	free(r);
	return ret;
}

int cmd_unbind_persist(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	return persist_locked(ctx, a, "unbind --persist", forget);
}

/* ---- --list-persistent --------------------------------------------------------------- */

/* What @r's device is bound to now (@now), and the record's state; @detail when unknown. */
static const char *record_state(struct hugepfn_ctx *ctx, const struct tool_record *r, char *now, size_t size,
				char *detail, size_t dsize)
{
	struct hugepfn_pci_info info;
	int ret;

	now[0] = '\0';
	tool_format(detail, dsize, "%s", r->error);
	if (r->error[0])
		return "invalid";
	ret = hugepfn_pci_info(ctx, r->bdf, &info);
	if (ret == -ENOENT)
		return "absent";
	if (ret) {
		/* only "no such device" is absence: anything else is not knowing */
		hugepfn_ctx_error(ctx, detail, dsize);
		return "unknown";
	}
	tool_format(now, size, "%s", info.driver[0] ? info.driver : "none");
	return strcmp(info.driver, r->driver) ? "not-applied" : "applied";
}

static struct json_object *record_json(const struct tool_record *r, const char *state, const char *now,
				       const char *detail)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device", r->bdf[0] ? json_object_new_string(r->bdf) : NULL);
	json_object_object_add(o, "file", json_object_new_string(r->name));
	json_object_object_add(o, "driver", r->driver[0] ? json_object_new_string(r->driver) : NULL);
	/* "none": bound to no driver; null: no such device (or a refused record) */
	json_object_object_add(o, "bound_to", now[0] ? json_object_new_string(now) : NULL);
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	return o;
}

static void list_head(const struct tool_args *a, const char *dir, int n, struct json_object **o,
		      struct json_object **arr)
{
	if (a->json) {
		*o = json_object_new_object();
		*arr = json_object_new_array();
		json_object_object_add(*o, "directory", json_object_new_string(dir));
		json_object_object_add(*o, "bindings", *arr);
	} else if (!n) {
		printf("No binding is recorded in %s ('hugepfn bind --persist BDF [DRIVER]' records one)\n", dir);
	} else {
		printf("Bound at every boot, as recorded in %s:\n%-13s %-9s %-12s %s\n", dir, "DEVICE", "DRIVER",
		       "BOUND TO", "STATE");
	}
}

int cmd_bind_list(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	struct json_object *o = NULL, *arr = NULL;
	char dir[PATH_MAX], now[64], detail[2048];
	struct tool_record *recs = NULL;
	struct tool_why why;
	int n, i, bad = 0, shown = 0;

	if (tool_records_dir(a, dir, sizeof(dir)))
		return tool_fail_msg(a, -ENAMETOOLONG, "read the records", "--root is too long", NULL);
	n = tool_records_read(ctx, dir, NULL, &recs, &why);
	if (n < 0)
		return fail_why(a, n, "read the records", &why);
	notices(a, recs, n);
	for (i = 0; i < n; i++)
		shown += !recs[i].ignored;
	list_head(a, dir, shown, &o, &arr);
	for (i = 0; i < n; i++) {
		const struct tool_record *r = &recs[i];
		const char *state = r->ignored ? NULL : record_state(ctx, r, now, sizeof(now), detail, sizeof(detail));

		if (!state)
			continue;
		if (r->error[0] && ++bad)
			fprintf(stderr, "hugepfn bind: %s -> %s\n", r->error, r->advice);
		if (a->json)
			json_object_array_add(arr, record_json(r, state, now, detail));
		else
			printf("%-13s %-9s %-12s %s\n", r->bdf[0] ? r->bdf : r->name, r->driver[0] ? r->driver : "?",
			       now[0] ? now : "-", state);
	}
	if (o)
		tool_json_print(o);
	free(recs);
	return bad ? EXIT_DEVICE : 0;
}

/* ---- --apply-persistent ------------------------------------------------------------------ */

enum outcome { APPLY_BOUND, APPLY_OK, APPLY_ABSENT, APPLY_FAILED };

static const char *const outcome_names[] = { "bound", "ok", "absent", "failed" };

struct applied {
	enum outcome how;
	char detail[2048];
	char advice[1024];
};

/*
 * The program the running kernel itself runs to load a module: what
 * /proc/sys/kernel/modprobe names, else /sbin/modprobe; never a file
 * under --root, which names where the records are, not whose modules
 * load (an image's file would name a program to run as root here). On a
 * --sysfs-root tree, whose kernel is not this one, only what --root's
 * proc/sys/kernel/modprobe names (the host tests' stand-in). 0, or -1
 * with @why.
 */
static int modprobe_path(const struct tool_args *a, const char *driver, char *prog, size_t size, char *why,
			 size_t wsize)
{
	char file[PATH_MAX] = "/proc/sys/kernel/modprobe";
	int n = a->sysfs_root && tool_rooted(a, file, sizeof(file), "/proc/sys/kernel/modprobe") ? -ENAMETOOLONG :
		read_small(file, prog, size);

	if (n < 0 && a->sysfs_root) {
		tool_format(why, wsize, "driver %s is not loaded (with --sysfs-root no module is loaded, unless --root "
			    "has proc/sys/kernel/modprobe)", driver);
		return -1;
	}
	if (n < 0)
		return tool_format(prog, size, "%s", MODPROBE);
	if (prog[0] != '/') {
		tool_format(why, wsize, "driver %s is not loaded, and %s names no program ('%s'): module loading is "
			    "off", driver, file, prog);
		return -1;
	}
	return 0;
}

/* Run @prog -- @driver and wait: its exit status (0 also when unknown), or -errno when it did not run. */
static int spawn_wait(const char *prog, const char *driver)
{
	char *argv[] = { (char *)prog, (char *)"--", (char *)driver, NULL };
	/* the environment of udev's worker or of whoever ran us is not modprobe's business */
	char *envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	int status = 0, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	/* its stdout to stderr: --json keeps stdout to itself */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	ret = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	while (waitpid(pid, &status, 0) < 0) {
		/* ECHILD: whoever started us ignores SIGCHLD, and the child was reaped unseen; the bind tells */
		if (errno != EINTR)
			return errno == ECHILD ? 0 : -errno;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Load @driver's module, as nobody is there at boot to do it: 0 when
 * modprobe succeeded (or its status is unknown), -1 with @why. modprobe
 * says itself, on stderr, why it failed (the journal keeps it).
 */
static int load_driver(const struct tool_args *a, const char *driver, char *why, size_t size)
{
	char prog[PATH_MAX];
	int ret = modprobe_path(a, driver, prog, sizeof(prog), why, size);

	if (ret)
		return ret;
	ret = spawn_wait(prog, driver);
	if (!ret)
		return 0;
	if (ret < 0)
		tool_format(why, size, "driver %s is not loaded, and %s did not run: %s", driver, prog, strerror(-ret));
	else
		tool_format(why, size, "driver %s is not loaded, and '%s %s' failed (exit %d): is it installed for this "
			    "kernel?", driver, prog, driver, ret);
	return -1;
}

static void bind_advice(struct applied *res, int ret, const struct tool_record *r)
{
	const char *s = "'hugepfn doctor BDF' checks the device";

	if (ret == -ENOENT)
		s = !strcmp(r->driver, "hugepfn") ? "install hugepfn.ko for this kernel ('hugepfn doctor' says how)" :
		    "modprobe vfio-pci (CONFIG_VFIO_PCI)";
	else if (ret == -EBUSY)
		s = "another driver took the device, or the driver refused it: 'dmesg' says which";
	else if (ret == -EACCES || ret == -EPERM)
		s = "run as root";
	tool_format(res->advice, sizeof(res->advice), "%s; then 'hugepfn bind --apply-persistent %s'", s, r->bdf);
}

/*
 * Bind @r's device, which exists and is bound to @was, loading its driver
 * if need be. A driver that is not loaded leaves a device no driver holds
 * with its override set (hugepfn_pci_bind()), so that the module, as it
 * loads, binds it; bound to the driver by then, the second bind has
 * nothing to do. Where the module cannot load, the override goes again:
 * the device is left as a boot without the record leaves it.
 */
static void apply_bind(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct tool_record *r,
		       const char *was, struct applied *res)
{
	struct hugepfn_pci_info info;
	char why[1024] = "", undo[128] = "";
	int ret = hugepfn_pci_bind(ctx, r->bdf, r->driver), loaded = 1;

	if (ret == -ENOENT) {
		loaded = !load_driver(a, r->driver, why, sizeof(why));
		if (loaded)
			ret = hugepfn_pci_bind(ctx, r->bdf, r->driver);
		else if (!was[0] && !hugepfn_pci_unbind(ctx, r->bdf))
			tool_format(undo, sizeof(undo), "; its driver_override is cleared again, for its usual driver");
	}
	if (!ret) {
		res->how = APPLY_BOUND;
		tool_format(res->detail, sizeof(res->detail), "was bound to %s", was[0] ? was : "no driver");
		return;
	}
	if (loaded)
		hugepfn_ctx_error(ctx, why, sizeof(why));
	if (!hugepfn_pci_info(ctx, r->bdf, &info) && !strcmp(info.driver, r->driver)) {
		res->how = APPLY_OK;
		tool_format(res->detail, sizeof(res->detail), "bound to %s meanwhile", r->driver);
		return;
	}
	res->how = APPLY_FAILED;
	tool_format(res->detail, sizeof(res->detail), "%s%s%s%s", loaded ? hugepfn_strerror(ret) : "",
		    loaded && why[0] ? ": " : "", why, undo);
	bind_advice(res, ret, r);
}

static void apply_one(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct tool_record *r,
		      struct applied *res)
{
	struct hugepfn_pci_info info;
	int ret;

	memset(res, 0, sizeof(*res));
	res->how = APPLY_FAILED;
	if (r->error[0]) {
		tool_format(res->detail, sizeof(res->detail), "%s", r->error);
		tool_format(res->advice, sizeof(res->advice), "%s", r->advice);
		return;
	}
	ret = hugepfn_pci_info(ctx, r->bdf, &info);
	if (ret == -ENOENT) {
		res->how = APPLY_ABSENT;
		tool_format(res->detail, sizeof(res->detail), "no such device now: the udev rule binds it when it appears");
	} else if (ret) {
		hugepfn_ctx_error(ctx, res->detail, sizeof(res->detail));
		tool_format(res->advice, sizeof(res->advice), "'hugepfn doctor %s' checks the device", r->bdf);
	} else if (!strcmp(info.driver, r->driver)) {
		res->how = APPLY_OK;
		tool_format(res->detail, sizeof(res->detail), "already bound to %s", r->driver);
	} else {
		apply_bind(ctx, a, r, info.driver, res);
	}
}

static void apply_print(const struct tool_args *a, const struct tool_record *r, const struct applied *res,
			struct json_object *arr)
{
	struct json_object *o;

	if (!a->json) {
		printf("%-13s %-9s %-7s %s%s%s\n", r->bdf[0] ? r->bdf : r->name, r->driver[0] ? r->driver : "?",
		       outcome_names[res->how], res->detail, res->advice[0] ? " -> " : "", res->advice);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "device", r->bdf[0] ? json_object_new_string(r->bdf) : NULL);
	json_object_object_add(o, "file", json_object_new_string(r->name));
	json_object_object_add(o, "driver", r->driver[0] ? json_object_new_string(r->driver) : NULL);
	json_object_object_add(o, "result", json_object_new_string(outcome_names[res->how]));
	json_object_object_add(o, "detail", json_object_new_string(res->detail));
	json_object_object_add(o, "advice", json_object_new_string(res->advice));
	json_object_array_add(arr, o);
}

/*
 * hugepfn.bind=0 (or off, n, no, false) on the kernel command line,
 * [--root]/proc/cmdline, the last one there counting: the way out of a
 * boot that a recorded binding breaks, as the records are on the root
 * file system that boot needs. 1 when it says so, @path the file.
 */
static int bind_disabled(const struct tool_args *a, char *path, size_t size)
{
	static const char *const off[] = { "0", "n", "N", "no", "off", "false" };
	char text[8192], *tok, *save = NULL;
	int disabled = 0;
	size_t i, n;

	if (tool_rooted(a, path, size, "/proc/cmdline") || read_small(path, text, sizeof(text)) < 0)
		return 0;
	for (tok = strtok_r(text, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		tok += *tok == '"';
		n = strlen(tok);
		if (n && tok[n - 1] == '"')
			tok[n - 1] = '\0';
		if (strncmp(tok, "hugepfn.bind=", 13))
			continue;
		for (disabled = 0, i = 0; i < sizeof(off) / sizeof(off[0]); i++)
			disabled |= !strcmp(tok + 13, off[i]);
	}
	return disabled;
}

static struct json_object *apply_head(const struct tool_args *a, const char *dir, int n, const char *off,
				      struct json_object **arr)
{
	struct json_object *o = NULL;

	if (a->json) {
		o = json_object_new_object();
		*arr = json_object_new_array();
		json_object_object_add(o, "directory", json_object_new_string(dir));
		json_object_object_add(o, "results", *arr);
		if (off)
			json_object_object_add(o, "disabled", json_object_new_string(off));
	} else if (off) {
		printf("%s: no recorded binding is applied (remove it from the boot entry to bind them again)\n", off);
	} else if (!n) {
		printf("No binding is recorded in %s%s%s: nothing to apply\n", dir, a->dev ? " for " : "",
		       a->dev ? a->dev : "");
	} else {
		printf("%-13s %-9s %-7s %s\n", "DEVICE", "DRIVER", "RESULT", "DETAIL -> WHAT TO DO");
	}
	return o;
}

/* Apply @recs[@n] (the lock held): how many failed. */
static int apply_all(struct hugepfn_ctx *ctx, const struct tool_args *a, const struct tool_record *recs, int n,
		     struct json_object *arr)
{
	struct applied res;
	int i, failed = 0;

	for (i = 0; i < n; i++) {
		if (recs[i].ignored)
			continue;
		apply_one(ctx, a, &recs[i], &res);
		failed += res.how == APPLY_FAILED;
		apply_print(a, &recs[i], &res, arr);
	}
	return failed;
}

/* The records of @bdf (NULL: all) read under the lock: the count, or the exit status negated. */
static int locked_read(struct hugepfn_ctx *ctx, const struct tool_args *a, const char *dir, const char *bdf,
		       struct tool_record **recs, int *lock)
{
	struct tool_why why;
	struct stat st;
	int n;

	*lock = -1;
	/* no records, nothing to wait for: also where --root has no tree at all */
	if (stat(dir, &st) && errno == ENOENT)
		return 0;
	*lock = tool_lock(a, &why);
	if (*lock < 0)
		return -fail_why(a, *lock, "apply the records: take the lock", &why);
	n = tool_records_read(ctx, dir, bdf, recs, &why);
	return n < 0 ? -fail_why(a, n, "read the records", &why) : n;
}

int cmd_bind_apply(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	char dir[PATH_MAX], bdf[16], cmdline[PATH_MAX], off[PATH_MAX + 64] = "";
	struct json_object *o, *arr = NULL;
	struct tool_record *recs = NULL;
	int lock = -1, n = 0, i, failed, shown = 0;

	if (tool_records_dir(a, dir, sizeof(dir)))
		return tool_fail_msg(a, -ENAMETOOLONG, "apply the records", "--root is too long", NULL);
	if (a->dev && (tool_check_dev(a, ctx, 1, NULL) || tool_bdf(ctx, a->dev, bdf)))
		return EXIT_USAGE;
	if (bind_disabled(a, cmdline, sizeof(cmdline)))
		tool_format(off, sizeof(off), "hugepfn.bind=0 is on the kernel command line (%s)", cmdline);
	else
		n = locked_read(ctx, a, dir, a->dev ? bdf : NULL, &recs, &lock);
	if (n < 0) {
		if (lock >= 0)
			close(lock);
		return -n;
	}
	notices(a, recs, n);
	for (i = 0; i < n; i++)
		shown += !recs[i].ignored;
	o = apply_head(a, dir, shown, off[0] ? off : NULL, &arr);
	failed = apply_all(ctx, a, recs, n, arr);
	if (lock >= 0)
		close(lock);
	if (o)
		tool_json_print(o);
	if (failed)
		fprintf(stderr, "hugepfn bind: %d of %d recorded bindings failed%s\n", failed, shown,
			a->json ? " (see the results)" : " (above)");
	free(recs);
	return failed ? EXIT_DEVICE : 0;
}

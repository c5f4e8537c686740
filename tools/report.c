// SPDX-License-Identifier: GPL-2.0
/*
 * How the hugepfn tool speaks: JSON through json-c (never by hand, so that
 * any string the kernel or a user supplies comes out escaped), failures
 * with the library's detail and what to do next, and the opening of DEV.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* Plain (no blanks) and "/" unescaped: the guest tests grep exact text. */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

void tool_json_print(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
}

struct json_object *tool_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

struct json_object *tool_json_fixed(double v, const char *fmt)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, v);
	return json_object_new_double_s(v, buf);
}

/* What to do about @err in command @a->cmd_name: the next step, never "". */
static const char *advice(const struct tool_args *a, int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return "run as root, or as a user the udev rule gives the node to (kernel/driver/README.md, Permissions)";
	case ENOENT:
		return "'hugepfn list' shows the PCI devices and carveouts there are";
	case EBUSY:
		return a->cmd == CMD_BIND ? "the driver refused the device: 'dmesg' says why" :
		       "another driver holds the device, or someone has it open: 'hugepfn bind BDF' hands a PCI "
		       "device to hugepfn, 'hugepfn doctor DEV' says more";
	case ENODEV:
		return "the device is gone, or its driver is not loaded: 'hugepfn doctor DEV' checks";
	case ERANGE:
		return "'hugepfn info DEV' lists the regions and their sizes";
	case ENODATA:
		return "map without --huge-required and read the page sizes of the runs it prints";
	case EOPNOTSUPP:
		return "'hugepfn doctor DEV' explains what stands in the way of huge leaves";
	case EIO:
		return a->map_flags & HUGEPFN_MAP_WC ? "map without --wc, or a range nothing mapped with another "
		       "memory type since boot" : "'hugepfn doctor DEV' checks the device and the system";
	case EAGAIN:
		return "the device is being reset: try again in a moment";
	case ENOMEM:
		return "free some memory, or map less (--length)";
	}
	return "'hugepfn doctor DEV' checks the device and the system";
}

int tool_fail_msg(const struct tool_args *a, int err, const char *what, const char *detail,
		  const char *next)
{
	const char *reason = hugepfn_strerror(err), *dev_at;
	struct json_object *o, *e;
	char with_dev[512];

	if (!next)
		next = advice(a, err);
	/* "hugepfn info DEV": the command to run next, with the device named */
	dev_at = a->dev ? strstr(next, "DEV") : NULL;
	if (dev_at) {
		snprintf(with_dev, sizeof(with_dev), "%.*s%s%s", (int)(dev_at - next), next, a->dev, dev_at + 3);
		next = with_dev;
	}
	fprintf(stderr, "hugepfn %s: %s: %s%s%s -> %s\n", a->cmd_name, what, reason, detail[0] ? ": " : "",
		detail, next);
	if (a->json) {
		o = json_object_new_object();
		e = json_object_new_object();
		json_object_object_add(e, "command", json_object_new_string(a->cmd_name));
		json_object_object_add(e, "what", json_object_new_string(what));
		json_object_object_add(e, "reason", json_object_new_string(reason));
		json_object_object_add(e, "detail", json_object_new_string(detail));
		json_object_object_add(e, "advice", json_object_new_string(next));
		json_object_object_add(o, "error", e);
		tool_json_print(o);
	}
	return EXIT_DEVICE;
}

int tool_fail_ctx(const struct tool_args *a, struct hugepfn_ctx *ctx, int err, const char *what)
{
	char detail[1024] = "";

	if (ctx)
		hugepfn_ctx_error(ctx, detail, sizeof(detail));
	return tool_fail_msg(a, err, what, detail, NULL);
}

int tool_fail_dev(const struct tool_args *a, struct hugepfn_dev *dev, int err, const char *what)
{
	char detail[1024] = "";

	if (dev)
		hugepfn_dev_error(dev, detail, sizeof(detail));
	return tool_fail_msg(a, err, what, detail, NULL);
}

int tool_check_dev(const struct tool_args *a, struct hugepfn_ctx *ctx, int pci_only, int *exists)
{
	struct hugepfn_pci_info info;
	int ret;

	if (exists)
		*exists = -1;
	if (!pci_only && (!strncmp(a->dev, "carveout:", 9) || a->dev[0] == '/'))
		return 0;
	ret = hugepfn_pci_info(ctx, a->dev, &info);
	if (ret == -EINVAL) {
		fprintf(stderr, "hugepfn %s: '%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, hex)%s "
			"(try 'hugepfn list')\n", a->cmd_name, a->dev,
			pci_only ? "" : ", carveout:NAME or device node (/dev/...)");
		return EXIT_USAGE;
	}
	if (exists && (!ret || ret == -ENOENT))
		*exists = !ret;
	return 0;
}

int tool_open_dev(const struct tool_args *a, struct hugepfn_ctx *ctx, struct hugepfn_dev **dev)
{
	char what[300], detail[1024] = "";
	int ret = tool_check_dev(a, ctx, 0, NULL);

	*dev = NULL;
	if (ret)
		return ret;
	ret = hugepfn_open(ctx, a->dev, a->backend, dev);
	if (!ret)
		return 0;
	/* on failure the handle is NULL: the detail is the context's */
	hugepfn_ctx_error(ctx, detail, sizeof(detail));
	if (ret == -EINVAL) {
		/* a spec or a --backend the library cannot use: the command line's fault */
		fprintf(stderr, "hugepfn %s: cannot open '%s' through the %s backend: %s (try 'hugepfn %s --help')\n",
			a->cmd_name, a->dev, hugepfn_backend_name(a->backend),
			detail[0] ? detail : hugepfn_strerror(ret), a->cmd_name);
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "open %s", a->dev);
	return tool_fail_msg(a, ret, what, detail, NULL);
}

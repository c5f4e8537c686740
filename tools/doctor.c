// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfn doctor [DEV]: why mappings do or do not come out huge, one line
 * a finding, each with what to do (hugepfn_doctor() does the checking),
 * then what the tool sees of the installation (install.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* Every finding, however many the library has (it says how many). */
static int all_checks(struct hugepfn_ctx *ctx, const char *dev, struct hugepfn_check **out)
{
	int max = 64, n;

	for (;;) {
		*out = calloc((size_t)max, sizeof(**out));
		if (!*out)
			return -ENOMEM;
		n = hugepfn_doctor(ctx, dev, *out, (size_t)max);
		if (n <= max)
			return n;
		free(*out);
		max = n;
	}
}

static struct json_object *check_json(const struct hugepfn_check *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "check", json_object_new_string(c->check));
	json_object_object_add(o, "status", json_object_new_string(hugepfn_check_status_name(c->status)));
	json_object_object_add(o, "found", json_object_new_string(c->found));
	json_object_object_add(o, "advice", json_object_new_string(c->advice));
	return o;
}

/* The library's findings, then the installation's, in one array: the count, or -ENOMEM. */
static int append_install(struct hugepfn_ctx *ctx, const struct tool_args *a, struct hugepfn_check **checks, int n)
{
	struct hugepfn_check *inst, *all;
	int m = tool_install_checks(ctx, a, *checks, n, &inst);

	if (m < 0)
		return m;
	all = realloc(*checks, (size_t)(n + m) * sizeof(**checks));
	if (!all) {
		free(inst);
		return -ENOMEM;
	}
	memcpy(all + n, inst, (size_t)m * sizeof(*inst));
	free(inst);
	*checks = all;
	return n + m;
}

int cmd_doctor(struct hugepfn_ctx *ctx, const struct tool_args *a)
{
	struct json_object *arr = NULL;
	struct hugepfn_check *checks;
	int n, i, failed = 0, ret;

	if (a->dev && (ret = tool_check_dev(a, ctx, 0, NULL)))
		return ret;
	n = all_checks(ctx, a->dev, &checks);
	free(n < 0 ? checks : NULL);
	/* a DEV the library cannot make sense of is a finding, not an error */
	if (n < 0)
		return tool_fail_ctx(a, ctx, n, "doctor");
	n = append_install(ctx, a, &checks, n);
	if (n < 0) {
		free(checks);
		return tool_fail_msg(a, n, "doctor: the installation's checks", "", NULL);
	}
	if (a->json)
		arr = json_object_new_array();
	else
		printf("%-6s %-13s %s\n", "STATUS", "CHECK", "FOUND -> WHAT TO DO");
	for (i = 0; i < n; i++) {
		const struct hugepfn_check *c = &checks[i];

		failed |= c->status == HUGEPFN_CHECK_FAIL;
		if (a->json)
			json_object_array_add(arr, check_json(c));
		else
			printf("%-6s %-13s %s%s%s\n", hugepfn_check_status_name(c->status), c->check, c->found,
			       c->advice[0] ? " -> " : "", c->advice);
	}
	if (arr)
		tool_json_print(arr);
	free(checks);
	return failed ? EXIT_DEVICE : 0;
}

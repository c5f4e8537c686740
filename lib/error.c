// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Error details, per object and per thread: each thread that fails a call
 * on a context or handle gets a slot there, so that a detail read back is
 * always the reader's own. A bounded number of slots per object keeps a
 * program that runs through many short-lived threads from growing it
 * without end; the slot written longest ago is reused.
 *
 * A thread is known by a random 64-bit number it draws the first time it
 * needs one, not by its pthread_t, which glibc hands to the next thread
 * once one exits: that one must not read the dead thread's detail.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hugepfn_internal.h"

static __thread uint64_t thread_cookie;

static uint64_t self_cookie(void)
{
	if (!thread_cookie) {
		uint64_t c = 0;

		if (getrandom(&c, sizeof(c), GRND_NONBLOCK) != sizeof(c)) {
			struct timespec ts;

			/* no entropy yet (early boot): unique enough among live threads */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			c = (uint64_t)gettid() << 32 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20;
		}
		thread_cookie = c ? c : 1;
	}
	return thread_cookie;
}

void hpfn_errors_init(struct hpfn_errors *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
}

void hpfn_errors_fini(struct hpfn_errors *e)
{
	unsigned int i;

	for (i = 0; i < e->nr; i++)
		free(e->slot[i]);
	pthread_mutex_destroy(&e->lock);
}

/* The calling thread's slot, or NULL; called with e->lock held. */
static struct hpfn_err_slot *find_slot(struct hpfn_errors *e)
{
	uint64_t self = thread_cookie;	/* 0: this thread never failed anywhere */
	unsigned int i;

	if (!self)
		return NULL;
	for (i = 0; i < e->nr; i++)
		if (e->slot[i]->thread == self)
			return e->slot[i];
	return NULL;
}

/* A slot for the calling thread: its own, a new one, or the stalest; NULL without memory. */
static struct hpfn_err_slot *claim_slot(struct hpfn_errors *e)
{
	struct hpfn_err_slot *s = find_slot(e);
	unsigned int i, oldest = 0;

	if (s)
		return s;
	if (e->nr < HPFN_ERR_THREADS) {
		s = malloc(sizeof(*s));
		if (!s)
			return NULL;
		e->slot[e->nr++] = s;
	} else {
		for (i = 1; i < e->nr; i++)
			if (e->slot[i]->stamp < e->slot[oldest]->stamp)
				oldest = i;
		s = e->slot[oldest];
	}
	s->thread = self_cookie();
	return s;
}

void hpfn_errors_clear(struct hpfn_errors *e)
{
	struct hpfn_err_slot *s;

	pthread_mutex_lock(&e->lock);
	s = find_slot(e);
	if (s)
		s->msg[0] = '\0';
	pthread_mutex_unlock(&e->lock);
}

void hpfn_errors_vset(struct hpfn_errors *e, const char *fmt, va_list ap)
{
	char msg[HPFN_ERR_LEN];
	struct hpfn_err_slot *s;

	/* format outside the lock: the arguments may be slow to render */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&e->lock);
	s = claim_slot(e);
	if (s) {
		memcpy(s->msg, msg, sizeof(msg));
		s->stamp = ++e->clock;
	}
	pthread_mutex_unlock(&e->lock);
}

size_t hpfn_errors_get(struct hpfn_errors *e, char *buf, size_t size)
{
	struct hpfn_err_slot *s;
	size_t len = 0;

	pthread_mutex_lock(&e->lock);
	s = find_slot(e);
	if (s)
		len = strlen(s->msg);
	if (size)
		snprintf(buf, size, "%s", s ? s->msg : "");
	pthread_mutex_unlock(&e->lock);
	return len;
}

int hpfn_err(struct hugepfn_dev *dev, int err, const char *fmt, ...)
{
	va_list ap;

	if (!dev)
		return err;
	va_start(ap, fmt);
	hpfn_errors_vset(&dev->errors, fmt, ap);
	va_end(ap);
	return err;
}

int hpfn_errs_set(struct hpfn_errors *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hpfn_errors_vset(e, fmt, ap);
	va_end(ap);
	return err;
}

int hpfn_ctx_err(struct hugepfn_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (!ctx)
		return err;
	va_start(ap, fmt);
	hpfn_errors_vset(&ctx->errors, fmt, ap);
	va_end(ap);
	return err;
}

HUGEPFN_API size_t hugepfn_dev_error(struct hugepfn_dev *dev, char *buf, size_t size)
{
	if (!dev || (!buf && size))
		return 0;
	return hpfn_errors_get(&dev->errors, buf, size);
}

HUGEPFN_API size_t hugepfn_ctx_error(struct hugepfn_ctx *ctx, char *buf, size_t size)
{
	if (!ctx || (!buf && size))
		return 0;
	return hpfn_errors_get(&ctx->errors, buf, size);
}

HUGEPFN_API const char *hugepfn_strerror(int err)
{
	const char *s;

	if (err == INT32_MIN)
		return "Unknown error";
	if (err < 0)
		err = -err;
	if (!err)
		return "Success";
	/* glibc's table: static, thread-safe, every errno the kernel returns */
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

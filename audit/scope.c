/*
 * audit/scope.c — scopes (scope.h): begin, end, the crossing of a
 * watched limit, and the listings of their call sites.
 */
#include "audit/scope.h"
#include "audit/gen.h"
#include "audit/leak.h"
#include "audit/sites.h"

#include <errno.h>
#include <string.h>

#define SCOPE_MAGIC 0x5c09e5u

int
da_scope_keep(uint64_t gen, void *arg)
{
	const struct da_scope *s = arg;
	if (gen == 0)
		return 0; /* dbgalloc's own */
	if (s->flags & DA_SCOPE_THREAD)
		return da_gen_log_has(s->log0, SIZE_MAX, gen);
	return gen >= s->gen0;
}

/* The thread's totals, or the process's (registry lock held). */
static void
totals_locked(const struct da_scope *s, uint64_t *bytes, uint64_t *allocs,
              uint64_t *frees)
{
	if (s->flags & DA_SCOPE_THREAD) {
		*bytes = da_acct_tls.bytes;
		*allocs = da_acct_tls.allocs;
		*frees = da_acct_tls.frees;
		return;
	}
	struct da_acct_totals t;
	da_acct_totals_locked(&t);
	*bytes = t.bytes;
	*allocs = t.allocs;
	*frees = t.frees;
}

int
da_scope_begin(struct da_scope *s, unsigned flags, size_t limit)
{
	if (flags & ~(DA_SCOPE_THREAD | DA_SCOPE_WATCH)) {
		errno = EINVAL;
		return -1;
	}
	struct da_acct_state *t = &da_acct_tls;
	da_acct_enter();
	memset(s, 0, sizeof(*s));
	s->magic = SCOPE_MAGIC;
	s->flags = flags;
	s->owner = t;
	s->limit = limit == 0 || limit > INT64_MAX / 2 ? DA_ACCT_NONE
	                                               : (int64_t)limit;
	if (flags & DA_SCOPE_THREAD) {
		s->log0 = da_gen_log_start();
		da_acct_lock();
		s->start = s->peak = t->net;
		s->bytes0 = t->bytes;
		s->allocs0 = t->allocs;
		s->frees0 = t->frees;
	} else {
		s->gen0 = da_gen_cut();
		da_acct_lock();
		totals_locked(s, &s->bytes0, &s->allocs0, &s->frees0);
		s->start = s->peak = da_acct_live_locked();
		s->pnext = da_scope_process_list;
		s->pprev = &da_scope_process_list;
		if (s->pnext != NULL)
			s->pnext->pprev = &s->pnext;
		da_scope_process_list = s;
		da_acct_limits_changed_locked();
	}
	s->outer = t->top;
	t->top = s;
	da_acct_retune(t);
	da_acct_unlock();
	return 0;
}

/* Whether the thread has a thread scope open (its batch log is in use). */
static int
thread_scope_open(const struct da_acct_state *t)
{
	for (const struct da_scope *s = t->top; s != NULL; s = s->outer)
		if (s->flags & DA_SCOPE_THREAD)
			return 1;
	return 0;
}

int
da_scope_end(struct da_scope *s, struct da_scope_result *r)
{
	struct da_acct_state *t = &da_acct_tls;
	if (s->magic != SCOPE_MAGIC || t->top != s) {
		errno = EINVAL;
		return -1;
	}
	uint64_t bytes, allocs, frees;
	int64_t now;
	da_acct_lock();
	t->top = s->outer;
	if (s->flags & DA_SCOPE_THREAD) {
		now = t->net;
	} else {
		*s->pprev = s->pnext;
		if (s->pnext != NULL)
			s->pnext->pprev = s->pprev;
		now = da_acct_live_locked();
		if (now > s->peak)
			s->peak = now;
		da_acct_limits_changed_locked();
	}
	totals_locked(s, &bytes, &allocs, &frees);
	da_acct_retune(t);
	da_acct_unlock();
	memset(r, 0, sizeof(*r));
	r->allocated_bytes = bytes - s->bytes0;
	r->allocated_blocks = allocs - s->allocs0;
	r->freed_blocks = frees - s->frees0;
	/* What was allocated, less what stayed: freed (of any block). */
	int64_t stayed = now - s->start;
	r->freed_bytes = (int64_t)r->allocated_bytes > stayed
	                         ? r->allocated_bytes - (uint64_t)stayed
	                         : 0;
	r->peak = s->peak > s->start ? (uint64_t)(s->peak - s->start) : 0;
	r->crossed = s->crossed;
	r->crossed_at = (uint64_t)s->crossed_at;
	struct da_sites live;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	if (da_sites_collect(da_scope_keep, s, DA_SCOPE_SITES, &live) == 0) {
		r->live_blocks = live.blocks;
		r->live_bytes = live.bytes;
		s->n_live = live.n;
		memcpy(s->live, live.top, sizeof(s->live));
	}
	da_gen_tls.site_override = saved;
	if ((s->flags & DA_SCOPE_THREAD) && !thread_scope_open(t))
		da_gen_log_stop();
	s->magic = 0; /* ended */
	return 0;
}

void
da_scope_crossed(struct da_scope *s, int64_t above)
{
	s->crossed_at = above;
	/* The listing runs on the scope's own thread only: a thread scope's
	 * log is its thread's. A process scope's is anyone's. */
	if ((s->flags & DA_SCOPE_THREAD) && s->owner != &da_acct_tls)
		return;
	struct da_sites at;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	if (da_sites_collect(da_scope_keep, s, DA_SCOPE_SITES, &at) == 0) {
		s->n_at_limit = at.n;
		memcpy(s->at_limit, at.top, sizeof(s->at_limit));
	}
	da_gen_tls.site_override = saved;
}

void
da_scope_thread_exit(struct da_acct_state *t)
{
	for (struct da_scope *s = t->top; s != NULL; s = s->outer) {
		if (s->flags & DA_SCOPE_THREAD)
			continue;
		*s->pprev = s->pnext;
		if (s->pnext != NULL)
			s->pnext->pprev = s->pprev;
		s->magic = 0;
	}
}

size_t
da_scope_sites(const struct da_scope *s, int at_limit, unsigned max, char *buf,
               size_t len)
{
	const struct da_site_total *top = at_limit ? s->at_limit : s->live;
	unsigned n = at_limit ? s->n_at_limit : s->n_live;
	if (max < n)
		n = max;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	size_t r = da_sites_format(top, n, buf, len);
	da_gen_tls.site_override = saved;
	return r;
}

/*
 * audit/tls.h — the audit layer's thread-local state, in one struct.
 *
 * An initial-exec thread-local variable of a shared library costs each
 * function that touches it one load of its offset (from the GOT) before
 * the access: the allocation and free paths, which touch the generation
 * batch, the accounting and the call-site cache, would load three. As the
 * members of one struct they share one offset, and each path loads it
 * once. The names the modules use stay (da_gen_tls, da_acct_tls,
 * da_site_tls), as the members.
 *
 *   da_audit_tls:  gen   (gen.h: the batch of numbers; read first by every
 *                         allocation)
 *                  acct  (acct.h: the thread's byte counts)
 *                  site  (site.h: the call-site cache and its counts)
 */
#ifndef DA_AUDIT_TLS_H
#define DA_AUDIT_TLS_H

#include <stdint.h>

struct da_scope;

/* gen.h */
struct da_gen_state {
	uint64_t next; /* the number the next allocation gets */
	uint64_t end;  /* the first number past the batch, or the break */
	/* Non-zero: the call-site id every block this thread allocates
	 * gets instead of its stack (leak.h: ignored, or dbgalloc's own). */
	uint32_t site_override;
	/* da_temporary_limit, copied at each refill: beside next, so the
	 * free path's test of a temporary block (sitestats.h) reads one
	 * thread-local struct. */
	uint32_t temporary_limit;
	/* Work due at the end of the allocation's slow path (DA_WORK_*),
	 * which clears it and does it (audit.c). */
	uint32_t work;
};

/* acct.h */
struct da_acct_state {
	int64_t net;     /* bytes allocated minus bytes freed, this thread */
	int64_t high;    /* an allocation taking net above this: da_acct_over */
	int64_t low;     /* a free taking net below this: da_acct_under */
	uint64_t bytes;  /* bytes this thread allocated */
	uint64_t allocs; /* blocks this thread allocated */
	uint64_t frees;  /* blocks this thread freed */
	/* The slow path's own: */
	int64_t grant;        /* under a limit: net may reach this */
	int64_t keep;         /* the credit the last refill left */
	int64_t peak;         /* highest net since the thread scope began */
	int64_t sampled;      /* net when the process peak was last sampled */
	unsigned state;       /* DA_ACCT_NEW, _LIVE, _GONE */
	unsigned in_slow;     /* reporting from da_acct_over (no recursion) */
	unsigned in_lock;     /* holding (or taking) the registry lock */
	struct da_scope *top; /* the thread's innermost open scope */
	struct da_acct_state *prev, *next; /* the registry of live threads */
};

/* site.h */
#define DA_SITE_CACHE 64

/* A slot k holds a return address, its call site's id, and what the
 * thread allocated from that call site since the slot took it (counted by
 * audit/sitestats.h, handed to the site's totals when the slot is taken
 * by another return address, when the thread exits, and summed by the
 * dump). */
struct da_site_cache {
	uintptr_t pc[DA_SITE_CACHE];
	uint32_t id[DA_SITE_CACHE];
	uint64_t allocs[DA_SITE_CACHE];
	uint64_t bytes[DA_SITE_CACHE];
	/* The temporary blocks the thread freed last, from one call site
	 * (sitestats.h): the free path counts them here inline. */
	uint32_t tmp_site;
	uint64_t tmp_count;
};

struct da_audit_tls {
	struct da_gen_state gen;
	struct da_acct_state acct;
	struct da_site_cache site;
};
extern __thread struct da_audit_tls da_audit_tls;

#define da_gen_tls  (da_audit_tls.gen)
#define da_acct_tls (da_audit_tls.acct)
#define da_site_tls (da_audit_tls.site)

#endif /* DA_AUDIT_TLS_H */

/*
 * audit/fail.c — fault injection (fail.h).
 */
#include "audit/fail.h"
#include "alloc/lock.h"
#include "audit/depot.h"
#include "audit/errors.h"
#include "audit/failspec.h"
#include "audit/gen.h"
#include "audit/leak.h"
#include "audit/settings.h"
#include "audit/site.h"
#include "audit/suppress.h"
#include "audit/symbolize.h"

#include <stdatomic.h>
#include <string.h>

#define SITE_FRAMES 16
#define MATCH_SLOTS 1024 /* call sites whose match is remembered */

int da_fail_on;

static struct {
	uint64_t at[DA_FAIL_AT_MAX];
	size_t nat;
	uint64_t rate; /* parts per 10^9; 0: none */
	uint64_t seed;
	const char *site; /* pattern, or NULL */
	int log;
	_Atomic uint64_t injected;
	/* Per call-site id: (id + 1) << 2 | 2 | matched; 0 empty. */
	_Atomic uint64_t match[MATCH_SLOTS];
	struct da_lock sym_lock; /* the symbolizer is not thread-safe */
} fail = {.sym_lock = DA_LOCK_INIT};

void
da_fail_configure(const struct da_settings *s)
{
	fail.nat = 0;
	if (s->fail_at[0] != '\0')
		da_failspec_at(s->fail_at, fail.at, DA_FAIL_AT_MAX, &fail.nat);
	fail.rate = 0;
	if (s->fail_rate[0] != '\0')
		da_failspec_rate(s->fail_rate, &fail.rate);
	fail.seed = s->fail_seed;
	fail.site = s->fail_site[0] != '\0' ? s->fail_site : NULL;
	fail.log = s->fail_log == DA_FAIL_LOG_ON;
	da_fail_on = fail.nat > 0 || fail.rate > 0 || fail.site != NULL;
	if (da_fail_on)
		da_gen_watch(fail.at, fail.nat,
		             fail.rate > 0 ||
		                     (fail.site != NULL && fail.nat == 0));
}

static int
listed(uint64_t gen)
{
	size_t lo = 0, hi = fail.nat;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fail.at[mid] < gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fail.nat && fail.at[lo] == gen;
}

/* splitmix64's finaliser: a number's place in [0, 2^64), by seed. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static int
candidate(uint64_t gen)
{
	if (fail.nat > 0 && listed(gen))
		return 1;
	if (fail.rate > 0)
		return mix(gen ^ mix(fail.seed)) % DA_FAIL_PPB < fail.rate;
	return fail.nat == 0 && fail.rate == 0; /* FAIL_SITE alone */
}

static int
frame_matches(uintptr_t pc)
{
	struct da_sym f;
	if (!da_sym_resolve(pc, &f))
		return 0;
	if (da_supp_pattern_match(fail.site, f.func) ||
	    da_supp_pattern_match(fail.site, f.file) ||
	    da_supp_pattern_match(fail.site, f.module))
		return 1;
	const char *base = f.module != NULL ? strrchr(f.module, '/') : NULL;
	return base != NULL && da_supp_pattern_match(fail.site, base + 1);
}

/* Whether a frame of site id's stack matches FAIL_SITE (remembered). */
static int
site_matches(uint32_t id)
{
	_Atomic uint64_t *slot = &fail.match[mix(id) % MATCH_SLOTS];
	uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
	if (v >> 2 == (uint64_t)id + 1)
		return (int)(v & 1);
	const uintptr_t *pcs;
	unsigned n = da_depot_get(id, &pcs);
	int m = 0;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	da_lock_acquire(&fail.sym_lock);
	for (unsigned i = 0; i < n && !m; i++)
		m = frame_matches(pcs[i]);
	da_lock_release(&fail.sym_lock);
	da_gen_tls.site_override = saved;
	atomic_store_explicit(slot, ((uint64_t)id + 1) << 2 | 2 | (unsigned)m,
	                      memory_order_relaxed);
	return m;
}

int
da_fail_decide(uint64_t gen, size_t size, const char *entry, uintptr_t ret,
               uintptr_t fp)
{
	if (!candidate(gen))
		return 0;
	uint32_t id = 0;
	if (fail.site != NULL || fail.log)
		id = da_site_capture_slow(ret, fp, SITE_FRAMES);
	if (fail.site != NULL && !site_matches(id))
		return 0;
	atomic_fetch_add_explicit(&fail.injected, 1, memory_order_relaxed);
	if (fail.log) {
		uint32_t saved = da_gen_tls.site_override;
		da_gen_tls.site_override = DA_SITE_INTERNAL;
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: injected failure of allocation ");
		da_line_dec(&l, gen);
		da_line_str(&l, ": ");
		da_line_str(&l, entry);
		da_line_str(&l, " of ");
		da_line_dec(&l, size);
		da_line_str(&l, size == 1 ? " byte, from:" : " bytes, from:");
		da_line_emit(&l);
		const uintptr_t *pcs;
		unsigned n = da_depot_get(id, &pcs);
		da_lock_acquire(&fail.sym_lock);
		da_frames_emit(pcs, n);
		da_lock_release(&fail.sym_lock);
		da_gen_tls.site_override = saved;
	}
	return 1;
}

void
da_fail_exit_report(void)
{
	if (!fail.log)
		return;
	/* The numbers handed out: the top of the counter, less the numbers
	 * of batches not used up (exact in a single thread, whose batch
	 * is given back first). */
	uint64_t n = da_gen_cut() - 1;
	uint64_t f = atomic_load_explicit(&fail.injected, memory_order_relaxed);
	struct da_line l = {.len = 0};
	da_line_str(&l, "dbgalloc: ");
	da_line_dec(&l, n);
	da_line_str(&l, n == 1 ? " allocation numbered, "
	                       : " allocations numbered, ");
	da_line_dec(&l, f);
	da_line_str(&l, f == 1 ? " failure injected" : " failures injected");
	da_line_emit(&l);
}

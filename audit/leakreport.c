/*
 * audit/leakreport.c — grouping, ranking and writing the leak report.
 */
#include "audit/leakreport.h"
#include "alloc/os.h"
#include "audit/depot.h"
#include "audit/errors.h"
#include "audit/gen.h"
#include "audit/report.h"
#include "audit/suppress.h"
#include "audit/symbolize.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static const char *const class_words[DA_LEAK_NCLASS] = {
        [DA_LEAK_DEFINITE] = "definitely lost",
        [DA_LEAK_INDIRECT] = "indirectly lost",
        [DA_LEAK_POSSIBLE] = "possibly lost",
        [DA_LEAK_REACHABLE] = "still reachable",
};

/* One line of the report: the blocks of one class from one site. */
struct record {
	uint32_t site;
	uint8_t cls;
	size_t bytes, blocks;
	size_t held_bytes, held_blocks; /* definitely lost: beneath them */
	uint64_t first_gen;             /* the lowest generation */
};

/* Mapped tables: the records, and a hash from (class, site) to one. */
struct records {
	struct record *r;
	size_t n, cap;
	uint32_t *slot; /* record index + 1, 0 = empty */
	size_t nslots;
};

static void *
map_zero(size_t bytes)
{
	return da_os_map(bytes); /* fresh mappings are zero */
}

static struct record *
record_for(struct records *t, uint8_t cls, uint32_t site)
{
	uint64_t h = ((uint64_t)site * 0x9e3779b97f4a7c15u) ^ cls;
	size_t mask = t->nslots - 1;
	for (size_t i = (size_t)(h >> 20) & mask;; i = (i + 1) & mask) {
		uint32_t k = t->slot[i];
		if (k == 0) {
			struct record *r = &t->r[t->n];
			memset(r, 0, sizeof(*r));
			r->site = site;
			r->cls = cls;
			r->first_gen = UINT64_MAX;
			t->slot[i] = (uint32_t)++t->n;
			return r;
		}
		struct record *r = &t->r[k - 1];
		if (r->site == site && r->cls == cls)
			return r;
	}
}

/* The set of blocks earlier checks reported, for DA_LREP_NEW: (address,
 * generation) pairs, open addressing, rebuilt at each check from what it
 * reported. */
static struct {
	uint64_t *key; /* address ^ generation << 1 | 1; 0 empty */
	size_t n;      /* slots */
} seen;

static uint64_t
seen_key(const struct da_lblock *b)
{
	return ((uint64_t)b->user ^ (b->gen << 20)) | 1;
}

static int
seen_has(const struct da_lblock *b)
{
	if (seen.key == NULL)
		return 0;
	uint64_t k = seen_key(b);
	size_t mask = seen.n - 1;
	for (size_t i = (size_t)((k * 0x9e3779b97f4a7c15u) >> 24) & mask;;
	     i = (i + 1) & mask) {
		if (seen.key[i] == 0)
			return 0;
		if (seen.key[i] == k)
			return 1;
	}
}

/* Replaces the set with the blocks of s that a report of flags shows. */
static void
seen_rebuild(const struct da_leak_scan *s, unsigned flags)
{
	if (seen.key != NULL)
		da_os_unmap(seen.key, seen.n * sizeof(uint64_t));
	seen.key = NULL;
	size_t want = 16;
	while (want < 2 * s->n)
		want *= 2;
	seen.key = map_zero(want * sizeof(uint64_t));
	if (seen.key == NULL)
		return;
	seen.n = want;
	size_t mask = want - 1;
	for (size_t j = 0; j < s->n; j++) {
		const struct da_lblock *b = &s->b[j];
		if (b->cls == DA_LEAK_IGNORED ||
		    (b->cls >= DA_LEAK_POSSIBLE && !(flags & DA_LREP_ALL)))
			continue;
		uint64_t k = seen_key(b);
		for (size_t i =
		             (size_t)((k * 0x9e3779b97f4a7c15u) >> 24) & mask;
		     ; i = (i + 1) & mask)
			if (seen.key[i] == 0 || seen.key[i] == k) {
				seen.key[i] = k;
				break;
			}
	}
}

static int
record_before(const struct record *a, const struct record *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls;
	size_t wa = a->bytes + a->held_bytes, wb = b->bytes + b->held_bytes;
	if (wa != wb)
		return wa > wb;
	return a->first_gen < b->first_gen;
}

/* Heapsort of the record order (no recursion, no memory). */
static void
sort_order(uint32_t *o, size_t n, const struct record *r)
{
	for (size_t k = n / 2, end = n;;) {
		size_t root;
		if (k > 0) {
			root = --k;
		} else {
			if (end <= 1)
				return;
			uint32_t t = o[0];
			o[0] = o[--end];
			o[end] = t;
			root = 0;
		}
		for (size_t child; (child = 2 * root + 1) < end; root = child) {
			if (child + 1 < end &&
			    record_before(&r[o[child]], &r[o[child + 1]]))
				child++;
			if (!record_before(&r[o[root]], &r[o[child]]))
				break;
			uint32_t t = o[root];
			o[root] = o[child];
			o[child] = t;
		}
	}
}

static void
emit_blank(void)
{
	da_report_write("\n", 1);
}

static void
print_record(const struct record *r)
{
	struct da_line l = {.len = 0};
	da_line_str(&l, "Leak of ");
	da_line_bytes(&l, r->bytes);
	da_line_str(&l, " in ");
	da_line_count(&l, r->blocks);
	da_line_str(&l, r->blocks == 1 ? " block (" : " blocks (");
	da_line_str(&l, class_words[r->cls]);
	if (r->cls == DA_LEAK_DEFINITE && r->held_blocks > 0) {
		da_line_str(&l, "; referencing ");
		da_line_count(&l, r->held_blocks);
		da_line_str(&l, r->held_blocks == 1 ? " block, " : " blocks, ");
		da_line_bytes(&l, r->held_bytes);
		da_line_str(&l, ", indirectly lost");
	}
	da_line_str(&l, ") allocated from:");
	da_line_emit(&l);
	const uintptr_t *pcs;
	unsigned n = da_depot_get(r->site, &pcs);
	da_frames_emit(pcs, n);
	unsigned e = da_gen_epoch_of(r->first_gen);
	da_line_str(&l, "  first block: generation ");
	da_line_dec(&l, r->first_gen);
	da_line_str(&l, " (epoch ");
	da_line_dec(&l, e);
	da_line_str(&l, " \"");
	da_line_str(&l, da_gen_epoch_label(e));
	da_line_str(&l, "\")");
	da_line_emit(&l);
	emit_blank();
}

static void
print_summary(const struct da_leak_counts *c, unsigned flags)
{
	struct da_line l = {.len = 0};
	unsigned ns = da_supp_count();
	int any_used = 0;
	for (unsigned i = 0; i < ns; i++)
		any_used |= da_supp_hits(i) != 0;
	if (any_used) {
		da_line_str(&l, "Suppressions used:");
		da_line_emit(&l);
		da_line_str(&l, "  records      bytes pattern");
		da_line_emit(&l);
		for (unsigned i = 0; i < ns; i++) {
			if (da_supp_hits(i) == 0)
				continue;
			struct da_line num = {.len = 0};
			da_line_str(&l, "  ");
			da_line_count(&num, da_supp_hits(i));
			for (size_t pad = num.len; pad < 7; pad++)
				da_line_str(&l, " ");
			num.buf[num.len] = '\0';
			da_line_str(&l, num.buf);
			num.len = 0;
			da_line_count(&num, da_supp_hit_bytes(i));
			da_line_str(&l, " ");
			for (size_t pad = num.len; pad < 10; pad++)
				da_line_str(&l, " ");
			num.buf[num.len] = '\0';
			da_line_str(&l, num.buf);
			da_line_str(&l, " leak:");
			da_line_str(&l, da_supp_pattern(i));
			da_line_emit(&l);
		}
		emit_blank();
	}
	size_t bytes = c->bytes[DA_LEAK_DEFINITE] + c->bytes[DA_LEAK_INDIRECT];
	size_t blocks =
	        c->blocks[DA_LEAK_DEFINITE] + c->blocks[DA_LEAK_INDIRECT];
	da_line_str(&l, "SUMMARY: dbgalloc: ");
	da_line_bytes(&l, bytes);
	da_line_str(&l, " leaked in ");
	da_line_count(&l, blocks);
	da_line_str(&l, blocks == 1 ? " block" : " blocks");
	unsigned first = 1;
	for (unsigned k = 0; k < DA_LEAK_NCLASS; k++) {
		if (c->blocks[k] == 0 ||
		    (k >= DA_LEAK_POSSIBLE && !(flags & DA_LREP_ALL)))
			continue;
		da_line_str(&l, first ? " (" : "; ");
		first = 0;
		da_line_str(&l, class_words[k]);
		da_line_str(&l, ": ");
		da_line_bytes(&l, c->bytes[k]);
		da_line_str(&l, " in ");
		da_line_count(&l, c->blocks[k]);
		da_line_str(&l, c->blocks[k] == 1 ? " block" : " blocks");
	}
	if (!first)
		da_line_str(&l, ")");
	if (c->suppressed_blocks > 0) {
		da_line_str(&l, "; suppressed: ");
		da_line_bytes(&l, c->suppressed_bytes);
		da_line_str(&l, " in ");
		da_line_count(&l, c->suppressed_blocks);
		da_line_str(&l,
		            c->suppressed_blocks == 1 ? " block" : " blocks");
	}
	da_line_emit(&l);
}

/* The report of s: its first line head if not NULL, else the usual one
 * with why (and then only when there is something to show); the summary
 * line after the records, always with head. */
static void
report(struct da_leak_scan *s, unsigned flags, const char *why,
       struct da_line *head, struct da_leak_counts *c)
{
	memset(c, 0, sizeof(*c));
	struct records t = {0};
	size_t nslots = 16;
	while (nslots < 2 * s->n + 2)
		nslots *= 2;
	t.cap = s->n + 1;
	t.r = map_zero(t.cap * sizeof(struct record));
	t.slot = map_zero(nslots * sizeof(uint32_t));
	t.nslots = nslots;
	uint32_t *order = map_zero(t.cap * sizeof(uint32_t));
	if (t.r == NULL || t.slot == NULL || order == NULL) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: leak report skipped: out of memory");
		da_line_emit(&l);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct da_lblock *b = &s->b[i];
		if (b->cls == DA_LEAK_IGNORED)
			continue;
		if ((flags & DA_LREP_NEW) && seen_has(b))
			continue;
		struct record *r = record_for(&t, b->cls, b->site);
		r->bytes += b->size;
		r->blocks++;
		r->held_bytes += b->held_bytes;
		r->held_blocks += b->held_blocks;
		if (b->gen < r->first_gen)
			r->first_gen = b->gen;
	}
	size_t shown = 0;
	for (size_t i = 0; i < t.n; i++) {
		struct record *r = &t.r[i];
		if (r->cls >= DA_LEAK_POSSIBLE && !(flags & DA_LREP_ALL))
			continue;
		const uintptr_t *pcs;
		unsigned n = da_depot_get(r->site, &pcs);
		int sup =
		        r->cls <= DA_LEAK_INDIRECT ? da_supp_match(pcs, n) : -1;
		if (sup >= 0) {
			da_supp_hit(sup, r->bytes);
			c->suppressed_bytes += r->bytes;
			c->suppressed_blocks += r->blocks;
			continue;
		}
		c->bytes[r->cls] += r->bytes;
		c->blocks[r->cls] += r->blocks;
		order[shown++] = (uint32_t)i;
	}
	sort_order(order, shown, t.r);
	if (head != NULL) {
		da_line_emit(head);
		emit_blank();
		for (size_t k = 0; k < shown; k++)
			print_record(&t.r[order[k]]);
		print_summary(c, flags);
	} else if (shown > 0 || c->suppressed_blocks > 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: leak report ");
		da_line_str(&l, why);
		da_line_str(&l, " (pid ");
		da_line_dec(&l, (unsigned long)getpid());
		da_line_str(&l, s->missed ? ", " : ")");
		if (s->missed) {
			da_line_dec(&l, s->missed);
			da_line_str(
			        &l,
			        s->missed == 1
			                ? " thread could not be stopped: its "
			                  "stack was not scanned)"
			                : " threads could not be stopped: "
			                  "their stacks were not scanned)");
		}
		da_line_emit(&l);
		emit_blank();
		for (size_t k = 0; k < shown; k++)
			print_record(&t.r[order[k]]);
		print_summary(c, flags);
	}
	seen_rebuild(s, flags);
out:
	if (t.r != NULL)
		da_os_unmap(t.r, t.cap * sizeof(struct record));
	if (t.slot != NULL)
		da_os_unmap(t.slot, nslots * sizeof(uint32_t));
	if (order != NULL)
		da_os_unmap(order, t.cap * sizeof(uint32_t));
}

void
da_leak_report_scan(struct da_leak_scan *s, unsigned flags, const char *why,
                    struct da_leak_counts *c)
{
	report(s, flags, why, NULL, c);
}

void
da_leak_report_live(struct da_leak_scan *s, unsigned flags,
                    struct da_line *head, struct da_leak_counts *c)
{
	report(s, flags, NULL, head, c);
}

/* Reports scan s (rc: whether it was made), and frees it. */
static int
report_and_free(struct da_leak_scan *s, int rc, unsigned flags, const char *why,
                struct da_leak_counts *c)
{
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	if (rc == 0) {
		da_sym_open();
		da_leak_report_scan(s, flags, why, c);
		da_sym_close();
	} else {
		struct da_line l = {.len = 0};
		memset(c, 0, sizeof(*c));
		da_line_str(&l, "dbgalloc: leak check failed: no memory for "
		                "its tables");
		da_line_emit(&l);
	}
	da_leak_scan_free(s);
	da_gen_tls.site_override = saved;
	pthread_setcancelstate(cancel, NULL);
	return rc;
}

int
da_leak_report(unsigned flags, const char *why, struct da_leak_counts *c)
{
	struct da_leak_scan s;
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	int rc = da_leak_scan(&s);
	da_gen_tls.site_override = saved;
	rc = report_and_free(&s, rc, flags, why, c);
	pthread_setcancelstate(cancel, NULL);
	return rc;
}

int
da_leak_report_scanned(struct da_leak_scan *s, unsigned flags, const char *why,
                       struct da_leak_counts *c)
{
	return report_and_free(s, 0, flags, why, c);
}

/*
 * audit/errors.c — writing heap-error reports.
 */
#include "audit/errors.h"
#include "alloc/lock.h"
#include "audit/audit.h"
#include "audit/symbolize.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ERR_FRAMES 32 /* frames of the stack that found the error */

void
da_frames_emit(const uintptr_t *pcs, unsigned n)
{
	struct da_line l = {.len = 0};
	/* Symbolizing reads files and may allocate: not from inside an
	 * allocator operation that a signal handler interrupted. */
	int safe = da_op_depth == 0;
	for (unsigned i = 0; i < n; i++) {
		if (safe) {
			da_sym_format(&l, i, pcs[i]);
		} else {
			da_line_str(&l, "    #");
			da_line_dec(&l, i);
			da_line_str(&l, " ");
			da_line_hex(&l, pcs[i]);
		}
		da_line_emit(&l);
	}
	if (n == 0) {
		da_line_str(&l, "    (no frames recorded)");
		da_line_emit(&l);
	}
}

void
da_err_block(struct da_err *e, uint64_t size)
{
	da_line_str(&e->head, " (");
	da_line_count(&e->head, size);
	da_line_str(&e->head, "-byte block");
	if (e->have_info) {
		da_line_str(&e->head, ", generation ");
		da_line_dec(&e->head, e->info.gen);
	}
	da_line_str(&e->head, ")");
}

void
da_site_emit(uint32_t site)
{
	const uintptr_t *pcs = NULL;
	unsigned n = site < DA_SITE_IGNORED ? da_depot_get(site, &pcs) : 0;
	da_frames_emit(pcs, n);
}

void
da_line_generation(struct da_line *l, uint64_t gen)
{
	unsigned epoch = da_gen_epoch_of(gen);
	da_line_str(l, "generation ");
	da_line_dec(l, gen);
	da_line_str(l, ", epoch ");
	da_line_dec(l, epoch);
	da_line_str(l, " \"");
	da_line_str(l, da_gen_epoch_label(epoch));
	da_line_str(l, "\"");
}

void
da_err_raise(struct da_err *e)
{
	da_err_write(e);
	if (da_cfg.abort_on_error)
		abort();
}

void
da_err_write(struct da_err *e)
{
	struct da_line l = {.len = 0};
	/* Symbolizing opens and reads files, which are cancellation points:
	 * a thread being cancelled must still finish its report. */
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	da_line_emit(&e->head);

	/* (No call: found at exit, by no entry point.) */
	if (e->call_ret != 0 || e->frames != NULL) {
		uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
		const uintptr_t *f = pcs;
		unsigned n = e->nframes;
		if (e->frames != NULL)
			f = e->frames;
		else
			n = da_unwind(pcs, ERR_FRAMES, e->call_ret, e->call_fp);
		da_line_str(&l, "  in thread ");
		da_line_dec(&l, (unsigned long)syscall(SYS_gettid));
		da_line_str(&l, " at:");
		da_line_emit(&l);
		da_frames_emit(f, n);
	}

	if (e->free_site != 0) {
		da_line_str(&l, "  freed by thread ");
		da_line_dec(&l, e->free_tid);
		da_line_str(&l, " at:");
		da_line_emit(&l);
		da_site_emit(e->free_site);
	} else if (e->free_pc != 0) {
		da_line_str(&l, "  freed before at:");
		da_line_emit(&l);
		uintptr_t pc = (uintptr_t)e->free_pc;
		da_frames_emit(&pc, 1);
	}
	if (e->have_info) {
		if (e->alloc_tid != 0) {
			da_line_str(&l, "  allocated by thread ");
			da_line_dec(&l, e->alloc_tid);
			da_line_str(&l, " at (");
		} else {
			da_line_str(&l, "  allocated at (");
		}
		da_line_generation(&l, e->info.gen);
		da_line_str(&l, "):");
		da_line_emit(&l);
		da_site_emit(e->info.site);
	}
	pthread_setcancelstate(cancel, NULL);
}

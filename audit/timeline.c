/*
 * audit/timeline.c — the ring of timeline samples (see timeline.h).
 */
#include "audit/timeline.h"
#include "alloc/os.h"
#include "audit/acct.h"
#include "audit/gen.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *const da_sample_reason_name[4] = {
        [DA_SAMPLE_STEP] = "step",
        [DA_SAMPLE_MARK] = "mark",
        [DA_SAMPLE_INTERVAL] = "interval",
        [DA_SAMPLE_DUMP] = "dump",
};

static struct da_sample *ring; /* DA_TIMELINE_MAX, oldest first */
static size_t nring;
static atomic_flag ring_lock = ATOMIC_FLAG_INIT;
static __thread int inside; /* this thread holds ring_lock */

static uint64_t interval_ns;
static _Atomic uint64_t interval_due;

/* Reads up to len - 1 bytes of the file path into buf, terminated;
 * returns the count, or -1. */
static long
read_small(const char *path, char *buf, size_t len)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t have = 0;
	while (have < len - 1) {
		long got = syscall(SYS_read, fd, buf + have, len - 1 - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	syscall(SYS_close, fd);
	buf[have] = '\0';
	return (long)have;
}

static uint64_t
parse_dec(const char **s)
{
	uint64_t v = 0;
	while (**s == ' ' || **s == '\t')
		(*s)++;
	for (; **s >= '0' && **s <= '9'; (*s)++)
		v = v * 10 + (uint64_t)(**s - '0');
	return v;
}

void
da_timeline_rss(uint64_t *rss, uint64_t *hwm)
{
	char buf[4096];
	int saved = errno;
	*rss = 0;
	if (read_small("/proc/self/statm", buf, sizeof(buf)) > 0) {
		const char *s = buf;
		parse_dec(&s); /* size */
		*rss = parse_dec(&s) * getauxval(AT_PAGESZ);
	}
	if (hwm != NULL) {
		*hwm = 0;
		if (read_small("/proc/self/status", buf, sizeof(buf)) > 0) {
			const char *s = strstr(buf, "\nVmHWM:");
			if (s != NULL) {
				s += 7;
				*hwm = parse_dec(&s) * 1024;
			}
		}
	}
	errno = saved;
}

static uint64_t
now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Makes room in the full ring (ring_lock held): every other step sample
 * of the older half goes; if there was none, every other sample of that
 * half but the dumps'; if none of those either, the oldest. */
static void
thin(void)
{
	size_t half = nring / 2, out = 0;
	for (int pass = 0; pass < 2 && out == 0; pass++) {
		size_t w = 0, seen = 0;
		for (size_t r = 0; r < nring; r++) {
			const struct da_sample *x = &ring[r];
			int drop = 0;
			if (r < half &&
			    (pass == 0 ? x->reason == DA_SAMPLE_STEP
			               : x->reason != DA_SAMPLE_DUMP))
				drop = (seen++ & 1) != 0;
			if (drop)
				out++;
			else
				ring[w++] = *x;
		}
		nring = w;
	}
	if (out == 0) {
		memmove(ring, ring + 1, (nring - 1) * sizeof(*ring));
		nring--;
	}
}

void
da_timeline_add(unsigned reason, int64_t live)
{
	if (inside)
		return; /* a signal handler inside this thread's sampling */
	if (live < 0) {
		struct da_acct_totals t;
		da_acct_totals(&t);
		live = t.live;
	}
	struct da_sample x = {
	        .live = (uint64_t)live,
	        .gen = da_gen_tls.next != 0 ? da_gen_tls.next : da_gen_top(),
	        .reason = reason,
	};
	da_timeline_rss(&x.rss, NULL);
	x.mono_ns = now_ns(CLOCK_MONOTONIC);
	inside = 1;
	atomic_signal_fence(memory_order_seq_cst);
	while (atomic_flag_test_and_set_explicit(&ring_lock,
	                                         memory_order_acquire))
		sched_yield();
	if (ring == NULL)
		ring = da_os_map(DA_TIMELINE_MAX * sizeof(*ring));
	if (ring != NULL) {
		if (nring == DA_TIMELINE_MAX)
			thin();
		/* Under threads two samples may come out of order: keep the
		 * ring in time order. */
		size_t at = nring;
		while (at > 0 && ring[at - 1].mono_ns > x.mono_ns) {
			ring[at] = ring[at - 1];
			at--;
		}
		ring[at] = x;
		nring++;
	}
	atomic_flag_clear_explicit(&ring_lock, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	inside = 0;
}

size_t
da_timeline_copy(struct da_sample *out, size_t max)
{
	if (inside)
		return 0;
	inside = 1;
	atomic_signal_fence(memory_order_seq_cst);
	while (atomic_flag_test_and_set_explicit(&ring_lock,
	                                         memory_order_acquire))
		sched_yield();
	size_t n = nring < max ? nring : max;
	if (n > 0)
		memcpy(out, ring, n * sizeof(*out));
	atomic_flag_clear_explicit(&ring_lock, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	inside = 0;
	return n;
}

void
da_timeline_set_interval(uint64_t ns)
{
	interval_ns = ns;
	atomic_store_explicit(&interval_due,
	                      ns != 0 ? now_ns(CLOCK_MONOTONIC_COARSE) + ns : 0,
	                      memory_order_relaxed);
}

void
da_timeline_tick(void)
{
	if (interval_ns == 0)
		return;
	uint64_t due =
	        atomic_load_explicit(&interval_due, memory_order_relaxed);
	uint64_t now = now_ns(CLOCK_MONOTONIC_COARSE);
	if (now < due || !atomic_compare_exchange_strong_explicit(
	                         &interval_due, &due, now + interval_ns,
	                         memory_order_relaxed, memory_order_relaxed))
		return;
	da_timeline_add(DA_SAMPLE_INTERVAL, -1);
}

size_t
da_timeline_bytes(void)
{
	return ring != NULL ? DA_TIMELINE_MAX * sizeof(*ring) : 0;
}

void
da_timeline_fork_child(void)
{
	atomic_flag_clear_explicit(&ring_lock, memory_order_relaxed);
}

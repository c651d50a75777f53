/*
 * audit/dumper.c — the dumper thread (see dumper.h).
 *
 * Requests are bits in one word (pending), set by handlers and threads,
 * taken by the thread all at once; wake_word is the futex the thread
 * sleeps on, bumped after each request, so a request made between the
 * thread's look at pending and its sleep makes the sleep return at once.
 * The limit's requests are also counted (limit_asked), and each one
 * served bumps limit_done, the futex its requester waits on.
 */
#include "audit/dumper.h"
#include "alloc/lock.h"
#include "audit/acct.h"
#include "audit/dump.h"
#include "audit/gen.h"
#include "audit/leak.h"
#include "audit/livecheck.h"
#include "audit/report.h"
#include "audit/scanbound.h"
#include "audit/stop.h"
#include "audit/trigger.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { REQ_DUMP = 1, REQ_LEAKS = 2, REQ_LIMIT = 4 };
enum { NONE, STARTING, RUNNING, FAILED };

#define STACK_SIZE     (2u << 20)
#define LIMIT_WAIT_MS  10000 /* the refusing thread waits at most this */
#define EXIT_WAIT_MS   10000 /* exit waits this for a dump under way */
#define REAP_PERIOD_MS 20    /* how often a live check's copy is looked at */

static struct da_dumper_cfg cfg;
static char signal_reason[48]; /* "signal:USR2" */

static _Atomic uint32_t pending;   /* REQ_* bits */
static _Atomic uint32_t wake_word; /* the thread's futex */
static _Atomic int state;          /* in this process */
_Atomic int da_dumper_wanted;
static _Atomic uint32_t limit_asked, limit_done;
static _Atomic int busy;    /* a dump is being written */
static _Atomic int closing; /* the process is exiting */
static __thread int in_dumper;

/* The dumper thread's own: the live check under way, one more asked. */
static pid_t checking;
static int leaks_again;

static long
futex_wait(_Atomic uint32_t *w, uint32_t v, uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
	                      (long)(ms % 1000) * 1000000L};
	return syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v,
	               ms == UINT64_MAX ? NULL : &ts, NULL, 0);
}

static void
futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Async-signal-safe. */
static void
request(uint32_t bits)
{
	atomic_fetch_or(&pending, bits);
	atomic_fetch_add(&wake_word, 1);
	futex_wake(&wake_word);
}

static void
on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)si, (void)ctx;
	int saved = errno;
	request(sig == cfg.dump_signal ? REQ_DUMP : REQ_LEAKS);
	errno = saved;
}

/* --- The thread's work. --- */

static void
dump(const char *reason)
{
	char err[512];
	atomic_store(&busy, 1);
	if (!atomic_load(&closing) &&
	    da_dump_write(cfg.pattern, reason, err, sizeof(err)) != 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, err);
		da_line_emit(&l);
	}
	atomic_store(&busy, 0);
}

/* One dump per refusal reported, each waiter released after its own. */
static void
serve_limit(void)
{
	while (atomic_load(&limit_asked) != atomic_load(&limit_done)) {
		dump("limit");
		atomic_fetch_add(&limit_done, 1);
		futex_wake(&limit_done);
	}
}

static void
live(void)
{
	if (checking != 0) {
		leaks_again = 1;
		return;
	}
	if (atomic_load(&closing))
		return;
	if (cfg.prepare != NULL)
		cfg.prepare();
	pid_t pid = da_live_check(cfg.leak_flags);
	if (pid > 0)
		checking = pid;
}

/* Reaps the live check's copy once it has ended. */
static void
reap(void)
{
	if (checking == 0)
		return;
	int status;
	pid_t r = (pid_t)syscall(SYS_wait4, checking, &status,
	                         WNOHANG | __WCLONE, NULL);
	if (r == 0 || (r < 0 && errno == EINTR))
		return;
	if (r == checking)
		da_live_check_ended(checking, status);
	/* r < 0: the program reaped it (a wait with __WALL). */
	checking = 0;
	if (leaks_again) {
		leaks_again = 0;
		live();
	}
}

static void *
dumper_main(void *arg)
{
	(void)arg;
	in_dumper = 1;
	da_gen_tls.site_override = DA_SITE_INTERNAL; /* all of it ours */
	da_scan_bound_ours(); /* the scans read none of its stack */
	prctl(PR_SET_NAME, "dbgalloc-dump", 0, 0, 0);
	uint64_t next = cfg.interval_ms ? now_ms() + cfg.interval_ms : 0;
	for (;;) {
		uint32_t w = atomic_load(&wake_word);
		uint32_t req = atomic_exchange(&pending, 0);
		/* The limit first: its requester waits. */
		if (req & REQ_LIMIT)
			serve_limit();
		if (req & REQ_DUMP)
			dump(signal_reason);
		if (req & REQ_LEAKS)
			live();
		uint64_t now = now_ms();
		if (next != 0 && now >= next) {
			dump("interval");
			now = now_ms();
			next += cfg.interval_ms;
			if (next <=
			    now) /* dumps took longer: skip the missed */
				next = now + cfg.interval_ms;
		}
		reap();
		uint64_t sleep = next != 0 ? next - now : UINT64_MAX;
		if (checking != 0 && sleep > REAP_PERIOD_MS)
			sleep = REAP_PERIOD_MS;
		if (atomic_load(&pending) == 0)
			futex_wait(&wake_word, w, sleep);
	}
	return NULL;
}

/* Starts the thread unless it runs or is being started; 0, or -1 (the
 * reason written once). */
static int
start(void)
{
	int none = NONE;
	if (!atomic_compare_exchange_strong(&state, &none, STARTING))
		return atomic_load(&state) == FAILED ? -1 : 0;
	atomic_store(&da_dumper_wanted, 0);
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	/* The thread inherits the mask: every signal blocked, but the stop
	 * signal and those of faults. */
	sigset_t all, old;
	sigfillset(&all);
	const int keep[] = {DA_STOP_SIGNAL, SIGSEGV, SIGBUS, SIGFPE,
	                    SIGILL,         SIGTRAP, SIGSYS, SIGABRT};
	for (unsigned i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		sigdelset(&all, keep[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t a;
	pthread_t t;
	int rc = pthread_attr_init(&a);
	if (rc == 0) {
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&a, STACK_SIZE);
		rc = pthread_create(&t, &a, dumper_main, NULL);
		pthread_attr_destroy(&a);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	da_gen_tls.site_override = saved;
	if (rc != 0) {
		atomic_store(&state, FAILED);
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: cannot start the thread that writes "
		                "dumps: ");
		da_line_str(&l, strerror(rc));
		da_line_emit(&l);
		return -1;
	}
	atomic_store(&state, RUNNING);
	return 0;
}

/* --- The triggers' side. --- */

static int
install(int sig, char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == 0)
		return 0;
	char name[16];
	struct da_line l = {.len = 0};
	da_line_str(&l, "dbgalloc: cannot catch SIG");
	da_line_str(&l, da_trigger_signal_name(sig, name, sizeof(name)));
	da_line_str(&l, ": ");
	da_line_str(&l, strerror(errno));
	size_t n = l.len < errlen - 1 ? l.len : errlen - 1;
	memcpy(err, l.buf, n);
	err[n] = '\0';
	return -1;
}

int
da_dumper_configure(const struct da_dumper_cfg *c, char *err, size_t errlen)
{
	cfg = *c;
	if (cfg.pattern != NULL && cfg.pattern[0] == '\0')
		cfg.pattern = NULL;
	if (cfg.dump_signal != 0) {
		char name[16];
		strcpy(signal_reason, "signal:");
		strcat(signal_reason,
		       da_trigger_signal_name(cfg.dump_signal, name,
		                              sizeof(name)));
		if (install(cfg.dump_signal, err, errlen) != 0)
			return -1;
	}
	if (cfg.leaks_signal != 0 && install(cfg.leaks_signal, err, errlen))
		return -1;
	/* A thread that cannot start says so, once; the program goes on. */
	if (cfg.dump_signal != 0 || cfg.leaks_signal != 0 ||
	    cfg.interval_ms != 0)
		start();
	return 0;
}

void
da_dumper_start_wanted(void)
{
	/* Only at a safe point: no lock, no interrupted operation. */
	if (da_op_depth == 0 && da_locks_held == 0 &&
	    da_acct_tls.in_lock == 0 && !in_dumper)
		start();
}

void
da_dumper_limit(void)
{
	if (cfg.pattern == NULL || atomic_load(&closing))
		return;
	uint32_t ticket = atomic_fetch_add(&limit_asked, 1) + 1;
	request(REQ_LIMIT);
	int safe = da_op_depth == 0 && da_locks_held == 0 &&
	           da_acct_tls.in_lock == 0 && !in_dumper;
	if (!safe) {
		/* Served when the thread runs (started at a safe point). */
		if (atomic_load(&state) == NONE)
			atomic_store(&da_dumper_wanted, 1);
		return;
	}
	if (start() != 0)
		return;
	uint64_t deadline = now_ms() + LIMIT_WAIT_MS;
	for (;;) {
		uint32_t done = atomic_load(&limit_done);
		if ((int32_t)(done - ticket) >= 0)
			return;
		uint64_t now = now_ms();
		if (now >= deadline)
			return;
		futex_wait(&limit_done, done, deadline - now);
	}
}

void
da_dumper_fork_child(void)
{
	atomic_store(&state, NONE);
	atomic_store(&pending, 0);
	atomic_store(&limit_asked, 0);
	atomic_store(&limit_done, 0);
	atomic_store(&busy, 0);
	checking = 0;
	leaks_again = 0;
	atomic_store(&da_dumper_wanted, cfg.dump_signal != 0 ||
	                                        cfg.leaks_signal != 0 ||
	                                        cfg.interval_ms != 0);
}

void
da_dumper_exit(void)
{
	atomic_store(&closing, 1);
	if (in_dumper)
		return;
	for (int i = 0; i < EXIT_WAIT_MS && atomic_load(&busy); i++) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/*
 * shim/guardsig.c — the SIGSEGV handler of DBGALLOC_GUARD.
 *
 * A fault in guard-page space (audit/guarded.h) gets its report; then the
 * handler sets SIGSEGV back to its default action and returns, so that the
 * instruction faults again and the process dies by the signal, as shells
 * and test runners expect of a crash. Under DBGALLOC_GUARD_RECOVER the page
 * is opened instead and the instruction runs again. A fault anywhere else
 * is not ours: it goes to the handler that was installed before ours (as
 * that handler asked to be called), or to the default action.
 *
 * The handler runs on the alternate signal stack when the thread has one
 * (SA_ONSTACK). While it is installed, the program's own sigaction() and
 * signal() for SIGSEGV (cmocka's, a crash handler's) are kept here instead
 * of replacing it: the program sees its own action when it asks, faults
 * that are not ours go to that action, and after the report of one of
 * ours the program's handler runs too (cmocka then fails the test and goes
 * on; a handler that returns lets the process die by the signal).
 */
#include "audit/guarded.h"
#include "shim/export.h"
#include "shim/guardsig.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

/* The program's action for SIGSEGV (what was installed before ours, then
 * what the program set since), and whether ours is installed. */
static struct sigaction prev;
static _Atomic(int) installed;

/* glibc's sigaction under its other exported name: ours below takes the
 * program's calls. */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* signal()'s other name (declared by <signal.h> for XPG only). */
sighandler_t bsd_signal(int sig, sighandler_t handler);

/* The default action, for the instruction's second fault. */
static void
to_default(void)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	installed = 0;
	__sigaction(SIGSEGV, &dfl, NULL);
}

/* Runs the program's handler as it asked to be called; 0 if it has none
 * (the default action, or ignored). */
static int
run_prev(int sig, siginfo_t *si, void *ctx)
{
	if (prev.sa_flags & SA_SIGINFO) {
		if (prev.sa_sigaction == NULL)
			return 0;
		prev.sa_sigaction(sig, si, ctx);
		return 1;
	}
	if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN)
		return 0;
	prev.sa_handler(sig);
	return 1;
}

static void
on_segv(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	int write = -1;
	uintptr_t pc = 0, fp = 0;
#if defined(__x86_64__)
	const ucontext_t *uc = ctx;
	/* Bit 1 of the page-fault error code: the access was a write. */
	write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
	pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#endif
	/* si_code <= 0: sent by a process (kill, raise), not a fault. */
	int ours = si->si_code > 0
	                   ? da_guarded_fault(si->si_addr, write, pc, fp)
	                   : 0;
	if (ours == 2) {
		errno = saved;
		return; /* recovered: the instruction runs again */
	}
	errno = saved;
	if (ours == 0 && run_prev(sig, si, ctx))
		return;
	/* After the report, the program's handler (one that jumps away
	 * leaves ours installed); if it returns, or there is none, the
	 * default action when the instruction faults again (a signal sent
	 * by kill is sent again). */
	if (ours == 1)
		run_prev(sig, si, ctx);
	to_default();
	if (si->si_code <= 0)
		raise(sig);
	errno = saved;
}

int
da_shim_guardsig_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (__sigaction(SIGSEGV, &sa, &prev) != 0)
		return -1;
	installed = 1;
	return 0;
}

/* The program's SIGSEGV action while ours is installed: kept in prev. Not
 * safe against two threads setting it at once (nor is the kernel's answer
 * to that useful to anyone). */
DA_EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGSEGV || !installed)
		return __sigaction(sig, act, old);
	if (old != NULL)
		*old = prev;
	if (act != NULL)
		prev = *act;
	return 0;
}

/* glibc's signal(), found when the library starts (NULL before, and in
 * a static program). */
static sighandler_t (*libc_signal)(int, sighandler_t);

void
da_shim_guardsig_setup(void)
{
	*(void **)&libc_signal = dlsym(RTLD_NEXT, "signal");
}

/* signal() as glibc's: BSD semantics (SA_RESTART, the handler stays). */
DA_EXPORT sighandler_t
signal(int sig, sighandler_t handler)
{
	if ((sig != SIGSEGV || !installed) && libc_signal != NULL)
		return libc_signal(sig, handler);
	if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction act, old;
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

DA_EXPORT sighandler_t
bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler);
}

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
 * (SA_ONSTACK). A handler the program installs after ours replaces it: its
 * faults in guard pages then go to the program's handler without a report.
 */
#include "audit/guarded.h"
#include "shim/guardsig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

static struct sigaction prev;

/* The default action, for the instruction's second fault. */
static void
to_default(void)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGSEGV, &dfl, NULL);
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
	if (ours == 0 && (prev.sa_flags & SA_SIGINFO) &&
	    prev.sa_sigaction != NULL) {
		errno = saved;
		prev.sa_sigaction(sig, si, ctx);
		return;
	}
	if (ours == 0 && !(prev.sa_flags & SA_SIGINFO) &&
	    prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
		errno = saved;
		prev.sa_handler(sig);
		return;
	}
	/* Ours, or nobody else's: the default action when the instruction
	 * faults again (a signal sent by kill is sent again). */
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
	return sigaction(SIGSEGV, &sa, &prev);
}

/*
 * audit/trigger.h — the words of the dump and leak-check triggers: signal
 * names (DBGALLOC_DUMP_SIGNAL, DBGALLOC_LEAKS_SIGNAL) and intervals
 * (DBGALLOC_DUMP_INTERVAL).
 *
 * A signal is a name with or without "SIG" (USR2, SIGUSR2, in either
 * case), RTMIN+n or RTMAX-n, or a number. The signals that cannot serve
 * are refused: those no handler can catch (KILL, STOP), those the process
 * gets for its own faults (SEGV, BUS, FPE, ILL, TRAP, SYS, ABRT), the C
 * library's own real-time signals (32, 33) and dbgalloc's own (SIGRTMAX-1,
 * which stops threads for the leak check).
 *
 * An interval is a duration (audit/duration.h: a whole number with its
 * unit, ms, s or m: 100ms, 30s, 5m) from 10ms to 1440m (a day).
 *
 * Plain C with no dependency on the rest of dbgalloc, so that tools built
 * outside the library (dbgalloc-stats) read the same words. May allocate:
 * no. Async-signal-safe.
 */
#ifndef DA_AUDIT_TRIGGER_H
#define DA_AUDIT_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

#define DA_TRIGGER_INTERVAL_MIN_MS 10
#define DA_TRIGGER_INTERVAL_MAX_MS (1440u * 60 * 1000)

/* The signal s names, or -1 if it names none or one that cannot serve. */
int da_trigger_signal(const char *s);

/* The name of signo without "SIG" (USR2, RTMIN+3), or its number for one
 * without a name, in buf (len bytes, terminated). Returns buf. */
char *da_trigger_signal_name(int signo, char *buf, size_t len);

/* The interval s gives, in milliseconds, in *ms: 0, or -1 if s is not an
 * interval in range. */
int da_trigger_interval_ms(const char *s, uint64_t *ms);

/* The settings' checks (settings.def): 0 if valid. */
int da_trigger_check_signal(const char *s);
int da_trigger_check_interval(const char *s);

#endif /* DA_AUDIT_TRIGGER_H */

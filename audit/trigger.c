/*
 * audit/trigger.c — signal names and intervals (see trigger.h).
 */
#include "audit/trigger.h"
#include "audit/duration.h"
#include "audit/stop.h"

#include <signal.h>
#include <string.h>

static const struct {
	const char *name;
	int signo;
} names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},
        {"ILL", SIGILL},   {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
        {"IOT", SIGIOT},   {"BUS", SIGBUS},       {"FPE", SIGFPE},
        {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
        {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
        {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
        {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},
        {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
        {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM},
        {"PROF", SIGPROF}, {"WINCH", SIGWINCH},   {"IO", SIGIO},
        {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* s[0..n) equals word, ignoring case. */
static int
same(const char *s, size_t n, const char *word)
{
	size_t i;
	for (i = 0; i < n && word[i] != '\0'; i++)
		if (upper((unsigned char)s[i]) != word[i])
			return 0;
	return i == n && word[i] == '\0';
}

/* Decimal digits, all of s, at most 4 of them; -1 otherwise. */
static int
small_number(const char *s)
{
	int v = 0;
	size_t n = 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 4)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	return n > 0 && s[n] == '\0' ? v : -1;
}

static int
usable(int signo)
{
	switch (signo) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
	case SIGSYS:
	case SIGABRT:
		return 0;
	}
	if (signo < 1 || signo > SIGRTMAX || signo == DA_STOP_SIGNAL)
		return 0;
	/* 32 and 33: glibc's own (cancellation, set*id), below SIGRTMIN. */
	return signo < 32 || signo >= SIGRTMIN;
}

int
da_trigger_signal(const char *s)
{
	int signo = small_number(s);
	if (signo < 0) {
		size_t n = strlen(s);
		if (n >= 3 && same(s, 3, "SIG")) {
			s += 3;
			n -= 3;
		}
		for (size_t i = 0; i < NNAMES && signo < 0; i++)
			if (same(s, n, names[i].name))
				signo = names[i].signo;
		if (signo < 0 && n > 6 &&
		    (same(s, 6, "RTMIN+") || same(s, 6, "RTMAX-"))) {
			int k = small_number(s + 6);
			if (k >= 0 && k <= SIGRTMAX - SIGRTMIN)
				signo = upper((unsigned char)s[3]) == 'I'
				                ? SIGRTMIN + k
				                : SIGRTMAX - k;
		}
		if (signo < 0 && same(s, n, "RTMIN"))
			signo = SIGRTMIN;
		if (signo < 0 && same(s, n, "RTMAX"))
			signo = SIGRTMAX;
	}
	return signo >= 0 && usable(signo) ? signo : -1;
}

/* Appends v in decimal to buf at *at (len bytes in all). */
static void
put_dec(char *buf, size_t len, size_t *at, int v)
{
	char tmp[12];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0 && *at + 1 < len)
		buf[(*at)++] = tmp[--n];
}

static void
put_str(char *buf, size_t len, size_t *at, const char *s)
{
	for (; *s != '\0' && *at + 1 < len; s++)
		buf[(*at)++] = *s;
}

char *
da_trigger_signal_name(int signo, char *buf, size_t len)
{
	size_t at = 0;
	if (len == 0)
		return buf;
	const char *name = NULL;
	for (size_t i = 0; i < NNAMES && name == NULL; i++)
		if (names[i].signo == signo)
			name = names[i].name;
	if (name != NULL) {
		put_str(buf, len, &at, name);
	} else if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
		int up = signo - SIGRTMIN, down = SIGRTMAX - signo;
		put_str(buf, len, &at, up <= down ? "RTMIN" : "RTMAX");
		if (up <= down && up > 0) {
			put_str(buf, len, &at, "+");
			put_dec(buf, len, &at, up);
		} else if (up > down && down > 0) {
			put_str(buf, len, &at, "-");
			put_dec(buf, len, &at, down);
		}
	} else {
		put_dec(buf, len, &at, signo);
	}
	buf[at] = '\0';
	return buf;
}

int
da_trigger_interval_ms(const char *s, uint64_t *ms)
{
	uint64_t ns;
	if (da_duration_parse(s, &ns) != 0)
		return -1;
	/* Whole milliseconds: every unit is a multiple of one. */
	uint64_t v = ns / 1000000;
	if (v < DA_TRIGGER_INTERVAL_MIN_MS || v > DA_TRIGGER_INTERVAL_MAX_MS)
		return -1;
	*ms = v;
	return 0;
}

int
da_trigger_check_signal(const char *s)
{
	return da_trigger_signal(s) < 0 ? -1 : 0;
}

int
da_trigger_check_interval(const char *s)
{
	uint64_t ms;
	return da_trigger_interval_ms(s, &ms);
}

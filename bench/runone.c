/*
 * runone — run one benchmark command and measure it from outside.
 *
 *   runone [-p LIB] [-e NAME=VALUE]... [-i FILE] [-o FILE] [-t SECONDS]
 *          -- PROG [ARG]...
 *
 * Forks, sets LD_PRELOAD=LIB in the child only (no -p: LD_PRELOAD is
 * removed, so the child runs on glibc's malloc), applies the -e settings,
 * gives the child FILE as stdin (-i) and stdout (-o) (both default to
 * /dev/null), execvp()s PROG and reaps it with wait4(). On stdout it prints
 * one line:
 *
 *   <elapsed ns> <peak RSS KiB> <user ns> <sys ns> <status>
 *
 * elapsed is CLOCK_MONOTONIC from just before fork() to just after wait4();
 * peak RSS is the child's ru_maxrss. status is "ok", "exit:N", "signal:N"
 * or "timeout" (the child outlived -t and was killed with SIGKILL). The exit
 * status of runone is 0 only for "ok"; 2 for a usage or system error.
 * No stdio buffer is shared with the child: it is created after the fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETTINGS 16

static volatile sig_atomic_t timed_out;

static void
on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
tv_ns(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;
}

static _Noreturn void
usage(void)
{
	fputs("usage: runone [-p LIB] [-e NAME=VALUE]... [-i FILE] [-o FILE] "
	      "[-t SECONDS] -- PROG [ARG]...\n",
	      stderr);
	exit(2);
}

/* Opens path as the child's descriptor target; exits the child on error. */
static void
redirect(const char *path, int flags, int target)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0 || dup2(fd, target) < 0) {
		dprintf(STDERR_FILENO, "runone: %s: %s\n", path,
		        strerror(errno));
		_exit(126);
	}
}

/* Runs in the child between fork() and exec: only exits, never returns. */
static _Noreturn void
child(char **argv, const char *preload, char **settings, int nsettings,
      const char *in, const char *out)
{
	if (preload != NULL) {
		if (setenv("LD_PRELOAD", preload, 1) != 0)
			_exit(126);
	} else {
		unsetenv("LD_PRELOAD");
	}
	for (int i = 0; i < nsettings; i++) {
		if (putenv(settings[i]) != 0)
			_exit(126);
	}
	redirect(in, O_RDONLY, STDIN_FILENO);
	redirect(out, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
	signal(SIGALRM, SIG_DFL);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "runone: cannot run %s: %s\n", argv[0],
	        strerror(errno));
	_exit(127);
}

int
main(int argc, char **argv)
{
	const char *preload = NULL, *in = "/dev/null", *out = "/dev/null";
	char *settings[MAX_SETTINGS];
	int nsettings = 0, opt, wstatus, rc;
	unsigned timeout = 0;
	struct sigaction sa;
	struct rusage ru;
	long long t0, t1;
	pid_t pid, got;
	char status[32];

	while ((opt = getopt(argc, argv, "+p:e:i:o:t:")) != -1) {
		switch (opt) {
		case 'p':
			preload = optarg[0] != '\0' ? optarg : NULL;
			break;
		case 'e':
			if (nsettings == MAX_SETTINGS ||
			    strchr(optarg, '=') == NULL)
				usage();
			settings[nsettings++] = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: wait4 must see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("runone: fork");
		return 2;
	}
	if (pid == 0)
		child(argv + optind, preload, settings, nsettings, in, out);
	if (timeout > 0)
		alarm(timeout);
	for (;;) {
		got = wait4(pid, &wstatus, 0, &ru);
		if (got == pid)
			break;
		if (got < 0 && errno == EINTR) {
			if (timed_out)
				kill(pid, SIGKILL);
			continue;
		}
		perror("runone: wait4");
		return 2;
	}
	t1 = now_ns();
	alarm(0);

	if (timed_out) {
		snprintf(status, sizeof(status), "timeout");
		rc = 1;
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		snprintf(status, sizeof(status), "ok");
		rc = 0;
	} else if (WIFEXITED(wstatus)) {
		snprintf(status, sizeof(status), "exit:%d",
		         WEXITSTATUS(wstatus));
		rc = 1;
	} else {
		snprintf(status, sizeof(status), "signal:%d",
		         WTERMSIG(wstatus));
		rc = 1;
	}
	printf("%lld %ld %lld %lld %s\n", t1 - t0, ru.ru_maxrss,
	       tv_ns(&ru.ru_utime), tv_ns(&ru.ru_stime), status);
	return fflush(stdout) == 0 ? rc : 2;
}

/*
 * submit - sendmail(1) as a bounded child process; see submit.h.
 */
#include "submit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotonic.h"

#define ARGS_FIXED 6		/* sendmail -i -f SENDER -- ... NULL */

static bool address_safe(const char *a)
{
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return false;
	return true;
}

/* The first line of what the program said, made printable. */
static void first_line(const char *out, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = out; *p && *p != '\n' && n + 1 < size; p++)
		buf[n++] = (*p >= ' ' && *p < 0x7f) ? *p : '?';
	buf[n] = '\0';
}

/* Reads what the child writes until it closes its end or the deadline passes; false on timeout. */
static bool collect(int fd, struct timespec deadline, char *out, size_t size)
{
	size_t used = 0;

	for (;;) {
		unsigned left = monotonic_ms_between(monotonic_now(), deadline);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char chunk[512];
		ssize_t n;

		if (left == 0)
			return false;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (p.revents == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		/* keep the beginning: the reason comes first */
		if (used + 1 < size) {
			size_t take = (size_t)n < size - 1 - used ? (size_t)n : size - 1 - used;
			memcpy(out + used, chunk, take);
			used += take;
			out[used] = '\0';
		}
	}
}

/* Waits for the child until the deadline; -1 (and the child killed and reaped) on timeout. */
static int reap(pid_t pid, struct timespec deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (monotonic_ms_between(monotonic_now(), deadline) == 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		usleep(2000);
	}
}

int submit_message(const char *sendmail, const char *sender, const char *const *recipients, size_t count,
		   int message_fd, unsigned timeout_ms, char *err, size_t errlen)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	struct timespec deadline = monotonic_after(monotonic_now(), timeout_ms);
	const char **argv;
	char out[1024] = "", line[256];
	int pipefd[2], status = 0;
	pid_t pid;
	bool done;

	if (!sendmail || sendmail[0] != '/' || !sender || count == 0 || !address_safe(sender)) {
		snprintf(err, errlen, "nothing to submit, or a sender with a control character");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (!recipients[i] || !recipients[i][0] || !address_safe(recipients[i])) {
			snprintf(err, errlen, "a recipient that is empty or holds a control character");
			return -1;
		}
	if (!(argv = calloc(count + ARGS_FIXED, sizeof(*argv)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	argv[0] = sendmail;
	argv[1] = "-i";		/* a line with a single dot is not the end */
	argv[2] = "-f";
	argv[3] = sender[0] ? sender : "<>";
	argv[4] = "--";		/* nothing after this is an option, whatever it starts with */
	for (size_t i = 0; i < count; i++)
		argv[ARGS_FIXED - 1 + i] = recipients[i];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(argv);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		free(argv);
		return -1;
	}
	if (pid == 0) {
		/* the child: only async-signal-safe calls until exec */
		if (dup2(message_fd, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		close_range(3, ~0U, 0);
		execve(sendmail, (char *const *)argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	free(argv);
	done = collect(pipefd[0], deadline, out, sizeof(out));
	close(pipefd[0]);
	if (!done) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (!done || reap(pid, deadline, &status) != 0) {
		snprintf(err, errlen, "%s: no answer within %u ms", sendmail, timeout_ms);
		return -1;
	}
	first_line(out, line, sizeof(line));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errlen, "%s: cannot be run", sendmail);
	else if (WIFEXITED(status))
		snprintf(err, errlen, "%s exited with status %d%s%s", sendmail, WEXITSTATUS(status), line[0] ? ": " : "",
			 line);
	else
		snprintf(err, errlen, "%s killed by signal %d", sendmail, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

/* fuzz_ctl: arbitrary bytes as a control request, twice.
 *
 * 1. ctl_split on the bytes (up to the first NUL); when they split, the
 *    words must survive ctl_join and a second ctl_split unchanged.
 * 2. The bytes, as sent by a client, to a real ctl server on an ev loop
 *    (one for the whole run, in a scratch directory): the reply must be
 *    "ok" or "error: ..." as its first line, end with a LF and be followed
 *    by EOF, and the server must be left with no connection. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ev.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_DEADLINE_MS	5000
#define FZ_REPLY_MAX	(64 * 1024)

static struct {
	struct ev_loop	*loop;
	struct ctl_server *srv;
	char		 dir[64];
	char		 path[128];
} fz;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
fz_echo(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	int	 i;

	for (i = 1; i < argc; i++)
		ctl_printf(c, "%s\n", argv[i]);
}

static void
fz_fail(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_printf(c, "discarded\n");
	ctl_reply_error(c, "failed: %s", argv[argc - 1]);
	ctl_end(c);
}

/* Over the test output_max when asked for many lines. */
static void
fz_big(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	int	 i, n = atoi(argv[1]);

	for (i = 0; i < n && i < 1000; i++)
		ctl_printf(c, "%0100d\n", i);
}

static const struct ctl_command fz_table[] = {
	{ "status", 0, 0, NULL, fz_echo },
	{ "echo", 0, -1, "echo [WORD ...]", fz_echo },
	{ "fail", 1, 3, "fail A [B [C]]", fz_fail },
	{ "big", 1, 1, "big N", fz_big },
	{ NULL, 0, 0, NULL, NULL }
};

static void
fz_cleanup(void)
{
	ctl_server_free(fz.srv);
	ev_free(fz.loop);
	rmdir(fz.dir);
}

static void
quiet(enum log_level level, const char *msg, void *arg)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ctl_limits lim = { .output_max = 16384, .timeout_ms = 1000 };
	char		 err[256];

	log_set_sink(quiet, NULL);
	snprintf(fz.dir, sizeof(fz.dir), "/tmp/fuzz_ctl.XXXXXX");
	if (mkdtemp(fz.dir) == NULL || (fz.loop = ev_new()) == NULL)
		abort();
	snprintf(fz.path, sizeof(fz.path), "%s/ctl.sock", fz.dir);
	if ((fz.srv = ctl_server_new(fz.loop, fz.path, 0600, fz_table, NULL,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_ctl: %s\n", err);
		abort();
	}
	ctl_server_set_limits(fz.srv, &lim);
	atexit(fz_cleanup);
	return 0;
}

static void
words_roundtrip(const uint8_t *data, size_t size)
{
	char		*line, *again, *argv[CTL_MAX_WORDS + 1];
	char		*argv2[CTL_MAX_WORDS + 1];
	const char	*why;
	struct buf	 b;
	int		 argc, i;

	if ((line = malloc(size + 1)) == NULL)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	if ((argc = ctl_split(line, argv, CTL_MAX_WORDS, &why)) == -1) {
		if (why == NULL)
			abort();
		free(line);
		return;
	}
	buf_init(&b, 0);
	if (ctl_join(&b, argc, argv, &why) == -1)
		abort();
	again = strdup(buf_cstr(&b));
	if (again == NULL || ctl_split(again, argv2, CTL_MAX_WORDS,
	    &why) != argc)
		abort();
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], argv2[i]) != 0)
			abort();
	free(again);
	buf_free(&b);
	free(line);
}

static bool
reply_ok(const char *r, size_t len)
{
	if (len == 0 || r[len - 1] != '\n')
		return false;
	return strncmp(r, "ok\n", 3) == 0 || strncmp(r, "error: ", 7) == 0;
}

static void
server_exchange(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static char	 reply[FZ_REPLY_MAX];
	uint64_t	 deadline = now_ms() + FZ_DEADLINE_MS;
	size_t		 len = 0, sent = 0;
	ssize_t		 n;
	bool		 eof = false;
	int		 fd;

	memcpy(sun.sun_path, fz.path, strlen(fz.path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	if (size == 0)
		shutdown(fd, SHUT_WR);
	while (!eof) {
		if (now_ms() > deadline)
			abort();
		if (sent < size) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (errno != EAGAIN)
				sent = size;	/* the server has closed */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		ev_run_once(fz.loop, 1);
		while ((n = recv(fd, reply + len, sizeof(reply) - len,
		    MSG_DONTWAIT)) > 0)
			if ((len += (size_t)n) == sizeof(reply))
				abort();
		if (n == 0)
			eof = true;
		else if (errno != EAGAIN && errno != ECONNRESET)
			abort();
	}
	close(fd);
	/* Only a client that sent nothing gets nothing. */
	if (size == 0 ? len != 0 : !reply_ok(reply, len))
		abort();
	while (ctl_server_stats(fz.srv).active != 0) {
		if (now_ms() > deadline)
			abort();
		ev_run_once(fz.loop, 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	words_roundtrip(data, size);
	server_exchange(data, size);
	return 0;
}

/* ctl_client — the ctl tools' side of the control protocol: one request,
 * the reply copied out, and the main() every ctl tool shares. A CLI may
 * block, so this is plain blocking I/O with poll() for the deadline. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "log.h"

#define CTL_CLIENT_TIMEOUT_MS	10000
#define CTL_CLIENT_TIMEOUT_MAX	86400	/* seconds accepted by -t */
#define CTL_STATUS_MAX		(CTL_ERROR_MAX + 64)	/* first line */
#define CTL_COPY_CHUNK		16384

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Which daemon to suggest starting: "lbd" for ".../lbd.sock". */
static void
hint_name(const char *path, char *name, size_t len)
{
	const char	*base = strrchr(path, '/');
	size_t		 n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".sock") == 0)
		n -= 5;
	if (n == 0 || n >= len) {
		snprintf(name, len, "%s", "the daemon");
		return;
	}
	memcpy(name, base, n);
	name[n] = '\0';
}

static int
client_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval	 tv;
	char		 name[64];
	size_t		 plen = strlen(path);
	int		 fd, saved;

	if (plen == 0 || plen >= sizeof(sun.sun_path)) {
		seterr(err, errlen, "connect %s: %s", path, plen == 0 ?
		    "empty socket path" : "socket path too long");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Bounds a connect to a full backlog, and the send. */
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		hint_name(path, name, sizeof(name));
		if (saved == ENOENT || saved == ECONNREFUSED)
			seterr(err, errlen, "connect %s: %s (is %s running?)",
			    path, strerror(saved), name);
		else if (saved == EAGAIN)
			seterr(err, errlen, "connect %s: timed out (%s is busy)",
			    path, name);
		else
			seterr(err, errlen, "connect %s: %s", path,
			    strerror(saved));
		return -1;
	}
	return fd;
}

/* Send the whole line. A failure is kept, not returned at once: the
 * server may have turned us away with a reply worth reading. */
static int
client_send(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	(void)shutdown(fd, SHUT_WR);
	return 0;
}

/* Read until the first LF is in b, within deadline (0: none). */
static int
read_status(int fd, struct buf *b, uint64_t deadline, int timeout_ms,
    int send_errno, char *err, size_t errlen)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 now;
	ssize_t		 n;
	int		 wait;

	while (buf_used(b) == 0 ||
	    memchr(buf_head(b), '\n', buf_used(b)) == NULL) {
		wait = -1;
		if (deadline != 0) {
			now = now_ms();
			wait = now >= deadline ? 0 : (int)(deadline - now);
		}
		if ((n = poll(&pfd, 1, wait)) == 0) {
			seterr(err, errlen, "no reply within %d ms", timeout_ms);
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		n = buf_read_fd(b, fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOBUFS)
			seterr(err, errlen, "protocol error: reply line longer "
			    "than %d bytes", CTL_STATUS_MAX);
		else if (send_errno != 0)
			seterr(err, errlen, "send: %s", strerror(send_errno));
		else if (n == 0)
			seterr(err, errlen, "connection closed without a reply");
		else
			seterr(err, errlen, "read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The message, or as much as fits marked with "...". */
static void
copy_message(char *err, size_t errlen, const char *msg, size_t len)
{
	if (errlen == 0)
		return;
	if (len < errlen) {
		memcpy(err, msg, len);
		err[len] = '\0';
		return;
	}
	if (errlen < 4) {
		err[0] = '\0';
		return;
	}
	memcpy(err, msg, errlen - 4);
	memcpy(err + errlen - 4, "...", 4);
}

static int
copy_out(FILE *out, const char *p, size_t len, char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	if (fwrite(p, 1, len, out) != len || fflush(out) == EOF) {
		seterr(err, errlen, "write output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Status line in b: 0 ok, 1 error (message to err), -1 neither. The rest
 * of b, payload already read, is left after it. */
static int
parse_status(struct buf *b, char *err, size_t errlen)
{
	char	*line = buf_head(b), *nl;
	size_t	 len;
	int	 rc;

	nl = memchr(line, '\n', buf_used(b));
	len = (size_t)(nl - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 2 && memcmp(line, "ok", 2) == 0)
		rc = 0;
	else if (len >= 7 && memcmp(line, "error: ", 7) == 0) {
		copy_message(err, errlen, line + 7, len - 7);
		rc = 1;
	} else {
		seterr(err, errlen, "protocol error: reply is neither ok nor "
		    "error");
		rc = -1;
	}
	buf_consume(b, (size_t)(nl - line) + 1);
	return rc;
}

int
ctl_request(const char *path, int argc, char *const argv[], FILE *out,
    int timeout_ms, char *err, size_t errlen)
{
	struct buf	 req, in;
	const char	*why;
	char		 chunk[CTL_COPY_CHUNK];
	uint64_t	 deadline = 0;
	ssize_t		 n;
	int		 fd = -1, rc = -1, send_errno, status;

	buf_init(&req, CTL_LINE_MAX + 1);
	buf_init(&in, CTL_STATUS_MAX);
	if (argc < 1) {
		seterr(err, errlen, "no command given");
		goto done;
	}
	if (ctl_join(&req, argc, argv, &why) == -1 && errno == EINVAL) {
		seterr(err, errlen, "%s", why);
		goto done;
	}
	/* Joined words plus LF over the cap, or the words alone. */
	if (buf_used(&req) == 0 || buf_append(&req, "\n", 1) == -1) {
		seterr(err, errlen, "request too long (max %d bytes)",
		    CTL_LINE_MAX);
		goto done;
	}
	if (timeout_ms > 0)
		deadline = now_ms() + (uint64_t)timeout_ms;
	if ((fd = client_connect(path, timeout_ms, err, errlen)) == -1)
		goto done;
	send_errno = client_send(fd, buf_head(&req), buf_used(&req));
	if (read_status(fd, &in, deadline, timeout_ms, send_errno, err,
	    errlen) == -1)
		goto done;
	status = parse_status(&in, err, errlen);
	if (status == -1)
		goto done;
	if (copy_out(out, buf_head(&in), buf_used(&in), err, errlen) == -1)
		goto done;
	/* Payload, or a stream: no deadline from here to EOF. */
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) > 0) {
			if (copy_out(out, chunk, (size_t)n, err, errlen) == -1)
				goto done;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/* After the reply a reset is the server closing with our
		 * bytes unread: the reply is still complete. */
		if (n == 0 || errno == ECONNRESET)
			break;
		seterr(err, errlen, "read: %s", strerror(errno));
		goto done;
	}
	rc = status;
done:
	if (fd != -1)
		close(fd);
	buf_free(&req);
	buf_free(&in);
	return rc;
}

static void
usage(FILE *fp, const char *progname)
{
	fprintf(fp, "usage: %s [-h] [-s socket] [-t seconds] command "
	    "[argument ...]\n", progname);
}

/* -t: seconds, fractions allowed, 0 for no timeout. */
static int
parse_timeout(const char *s, int *ms)
{
	char	*end;
	double	 secs;

	errno = 0;
	secs = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(secs) ||
	    secs < 0 || secs > CTL_CLIENT_TIMEOUT_MAX)
		return -1;
	*ms = (int)(secs * 1000);
	if (*ms == 0 && secs > 0)
		*ms = 1;
	return 0;
}

int
ctl_tool_main(int argc, char **argv, const char *progname,
    const char *default_socket)
{
	const struct ctl_tool tool = { progname, default_socket, NULL };

	return ctl_tool_run(&tool, argc, argv);
}

int
ctl_tool_run(const struct ctl_tool *tool, int argc, char **argv)
{
	const char	*progname = tool->progname;
	const char	*sock = tool->default_socket;
	char		 err[CTL_ERROR_MAX + 256];
	int		 ch, rc, ms, timeout_ms = CTL_CLIENT_TIMEOUT_MS;
	bool		 timeout_set = false;

	/* "+": stop at the command, so "-1" can be an argument. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:hs:t:")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, progname);
			return 0;
		case 's':
			sock = optarg;
			break;
		case 't':
			if (parse_timeout(optarg, &timeout_ms) == -1) {
				fprintf(stderr, "%s: bad timeout '%s' (seconds, "
				    "0 for none, at most %d)\n", progname,
				    optarg, CTL_CLIENT_TIMEOUT_MAX);
				return 2;
			}
			timeout_set = true;
			break;
		case ':':
			fprintf(stderr, "%s: option -%c needs an argument\n",
			    progname, optopt);
			usage(stderr, progname);
			return 2;
		default:
			fprintf(stderr, "%s: unknown option -%c\n", progname,
			    optopt);
			usage(stderr, progname);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given (try: %s help)\n",
		    progname, progname);
		usage(stderr, progname);
		return 2;
	}
	/* Only when the user said nothing: -t always wins. */
	if (!timeout_set && tool->reply_timeout != NULL &&
	    (ms = tool->reply_timeout(argc - optind, argv + optind,
	    timeout_ms)) >= 0)
		timeout_ms = ms;
	rc = ctl_request(sock, argc - optind, argv + optind, stdout,
	    timeout_ms, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", progname, err);
	return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}

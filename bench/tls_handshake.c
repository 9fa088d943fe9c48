/* tls_handshake — what a TLS handshake costs in common/tls, with no
 * network and no event loop in the way: N handshakes between a client
 * and a server config over a socketpair, both ends in this one process,
 * stepped in turn. The server's share of the CPU time is the ceiling for
 * a one-core TLS frontend (lbd) built on this library; the client's is
 * reported apart so it does not blur that figure.
 *
 *   tls_handshake [-n N] [-m full|resume|both] certfile keyfile
 *
 * full: a fresh session each time (ECDHE + the certificate's signature
 * on the server). resume: the client hands back the session of a first
 * full handshake every time (a session ticket), and every one of them
 * must have resumed. Uses only the tls.h API, like the daemons. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"

/* A stuck handshake is a bug, not a slow one: give up after this many
 * turns without finishing. */
#define HS_TURNS_MAX	10000

struct side_time {
	double	 client, server;	/* CPU seconds inside tls_handshake */
};

static double
cpu_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* One handshake. With *sessp set the client offers that session; with
 * save, the client's session is returned in *sessp. resumed says what the
 * server saw. 0, or -1 with a message on stderr. */
static int
handshake_once(struct tls_config *ccfg, struct tls_config *scfg,
    struct tls_session **sessp, bool save, struct side_time *t,
    bool *resumed)
{
	struct tls_conn	*c = NULL, *s = NULL;
	char		 err[256];
	double		 t0;
	int		 fd[2] = { -1, -1 }, rc_c = TLS_WANT_WRITE,
			 rc_s = TLS_WANT_READ, turns, ret = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == -1 ||
	    set_nonblock(fd[0]) == -1 || set_nonblock(fd[1]) == -1) {
		fprintf(stderr, "tls_handshake: socketpair: %s\n",
		    strerror(errno));
		goto out;
	}
	if ((c = tls_conn_new(ccfg, fd[0], NULL, err, sizeof(err))) == NULL ||
	    (s = tls_conn_new(scfg, fd[1], NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		goto out;
	}
	if (*sessp != NULL &&
	    tls_conn_set_session(c, *sessp, err, sizeof(err)) == -1) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		goto out;
	}
	/* Each side runs until it waits on the other; a socketpair's
	 * buffer holds any handshake flight, so no poll is needed. */
	for (turns = 0; rc_c != 0 || rc_s != 0; turns++) {
		if (turns == HS_TURNS_MAX) {
			fprintf(stderr, "tls_handshake: handshake stalled\n");
			goto out;
		}
		if (rc_c != 0) {
			t0 = cpu_now();
			rc_c = tls_handshake(c);
			t->client += cpu_now() - t0;
		}
		if (rc_s != 0) {
			t0 = cpu_now();
			rc_s = tls_handshake(s);
			t->server += cpu_now() - t0;
		}
		if (rc_c == TLS_ERR || rc_s == TLS_ERR) {
			fprintf(stderr, "tls_handshake: client \"%s\", "
			    "server \"%s\"\n", tls_conn_error(c),
			    tls_conn_error(s));
			goto out;
		}
	}
	*resumed = tls_conn_resumed(s);
	if (save && (*sessp = tls_conn_get_session(c, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		goto out;
	}
	ret = 0;
out:
	tls_conn_free(c);
	tls_conn_free(s);
	if (fd[0] != -1)
		close(fd[0]);
	if (fd[1] != -1)
		close(fd[1]);
	return ret;
}

/* n handshakes of one kind; prints one line. 0 or -1. */
static int
run(const char *kind, struct tls_config *ccfg, struct tls_config *scfg,
    long n, bool resume)
{
	struct tls_session	*sess = NULL;
	struct side_time	 t = { 0, 0 }, first = { 0, 0 };
	double			 w0, wall;
	bool			 resumed;
	long			 i;
	int			 ret = -1;

	if (resume && handshake_once(ccfg, scfg, &sess, true, &first,
	    &resumed) == -1)
		return -1;
	w0 = wall_now();
	for (i = 0; i < n; i++) {
		if (handshake_once(ccfg, scfg, &sess, false, &t,
		    &resumed) == -1)
			goto out;
		if (resumed != resume) {
			fprintf(stderr, "tls_handshake: handshake %ld %s\n",
			    i, resumed ? "resumed unasked" :
			    "did not resume");
			goto out;
		}
	}
	wall = wall_now() - w0;
	printf("%s handshakes: %ld in %.2f s; one core, both ends: %.0f/s; "
	    "server side: %.0f/s (%.3f ms each); client side: %.3f ms each\n",
	    kind, n, wall, (double)n / (t.client + t.server),
	    (double)n / t.server, t.server * 1000 / (double)n,
	    t.client * 1000 / (double)n);
	ret = 0;
out:
	tls_session_free(sess);
	return ret;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tls_handshake [-n count] [-m full|resume|both] "
	    "certfile keyfile\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct tls_config	*scfg, *ccfg;
	const char		*mode = "both";
	char			 err[256], *end;
	long			 n = 1000;
	int			 ch, ret = 0;

	while ((ch = getopt(argc, argv, "m:n:")) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > 10000000)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || (strcmp(mode, "full") != 0 &&
	    strcmp(mode, "resume") != 0 && strcmp(mode, "both") != 0))
		usage();

	/* The daemons' defaults: tickets and a session cache. */
	if ((scfg = tls_server_new(NULL, err, sizeof(err))) == NULL ||
	    tls_server_add_cert(scfg, argv[0], argv[1], err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		tls_config_free(scfg);
		return 1;
	}
	/* No verification: the chain check is the client's cost, not the
	 * server's, and the server's figure is the one that matters. */
	if ((ccfg = tls_client_new(NULL, false, NULL, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "tls_handshake: %s\n", err);
		tls_config_free(scfg);
		return 1;
	}
	if (strcmp(mode, "resume") != 0 &&
	    run("full", ccfg, scfg, n, false) == -1)
		ret = 1;
	if (ret == 0 && strcmp(mode, "full") != 0 &&
	    run("resumed", ccfg, scfg, n, true) == -1)
		ret = 1;
	tls_config_free(ccfg);
	tls_config_free(scfg);
	return ret;
}

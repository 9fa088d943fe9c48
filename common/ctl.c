/* ctl — control socket server: the listener, who may connect, the
 * command table and dispatch. Connections live in ctl_conn.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ctl_int.h"
#include "ev.h"
#include "log.h"
#include "net.h"

#define CTL_ACCEPT_BATCH	32	/* accepts per wake-up */
#define CTL_ACCEPT_PAUSE_MS	100	/* after EMFILE and the like */
#define CTL_PEER_GROUPS		64	/* supplementary groups on the stack */
#define CTL_GROUPS_MAX		65536	/* NGROUPS_MAX on Linux */

static void	help_builtin(struct ctl_conn *, int, char **, void *);

static const struct ctl_command builtin_help = {
	"help", 0, 0, "help", help_builtin
};

/* A table is written in the code: a bad entry is the programmer's. */
static int
table_check(const struct ctl_command *table, bool *own_help, char *err,
    size_t errlen)
{
	const struct ctl_command *cmd;

	*own_help = false;
	for (cmd = table; cmd->name != NULL; cmd++) {
		if (cmd->name[0] == '\0' || cmd->fn == NULL ||
		    cmd->min_args < 0 || cmd->min_args >= CTL_MAX_WORDS ||
		    cmd->max_args < -1 || cmd->max_args >= CTL_MAX_WORDS ||
		    (cmd->max_args != -1 && cmd->max_args < cmd->min_args)) {
			seterr(err, errlen, "ctl command table: bad entry "
			    "'%s'", cmd->name);
			return -1;
		}
		if (strcmp(cmd->name, "help") == 0)
			*own_help = true;
	}
	return 0;
}

static bool
gid_allowed(const struct ctl_server *srv, gid_t gid)
{
	size_t	 i;

	if (gid == getegid())
		return true;
	for (i = 0; i < srv->nallow; i++)
		if (srv->allow[i] == gid)
			return true;
	return false;
}

/* Supplementary groups of the peer (SO_PEERGROUPS, Linux 4.13). */
static bool
peer_groups_allowed(const struct ctl_server *srv, int fd)
{
#ifdef SO_PEERGROUPS
	gid_t		 stack[CTL_PEER_GROUPS], *groups = stack;
	socklen_t	 len = sizeof(stack);
	size_t		 i, n;
	bool		 ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE || len > CTL_GROUPS_MAX * sizeof(gid_t) ||
		    (groups = malloc(len)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) == -1) {
			free(groups);
			return false;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !ok; i++)
		ok = gid_allowed(srv, groups[i]);
	if (groups != stack)
		free(groups);
	return ok;
#else
	return false;
#endif
}

/* euid and egid are looked up each time: the daemon drops privileges
 * after binding the socket. */
static bool
peer_allowed(const struct ctl_server *srv, int fd, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	if (gid_allowed(srv, cred->gid))
		return true;
	return peer_groups_allowed(srv, fd);
}

/* A new client: who it is, whether it may, whether there is room. */
static void
server_admit(struct ctl_server *srv, int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: %s: SO_PEERCRED", __func__, srv->path);
		close(fd);
		return;
	}
	if (!peer_allowed(srv, fd, &cred)) {
		srv->stats.refused++;
		srv->stats.errors++;
		log_warnx("%s: %s: uid %u gid %u pid %d: permission denied",
		    __func__, srv->path, (unsigned)cred.uid, (unsigned)cred.gid,
		    (int)cred.pid);
		ctl_reject(fd, "permission denied");
		return;
	}
	if (srv->stats.active >= srv->limits.max_conns) {
		srv->stats.busy++;
		srv->stats.errors++;
		log_debug("%s: %s: uid %u pid %d: too many connections (%zu)",
		    __func__, srv->path, (unsigned)cred.uid, (int)cred.pid,
		    srv->limits.max_conns);
		ctl_reject(fd, "too many connections");
		return;
	}
	ctl_conn_open(srv, fd, &cred);
}

static void
server_resume(struct ev_loop *loop, void *arg)
{
	struct ctl_server *srv = arg;

	if (ev_fd_mod(loop, srv->fd, EV_READ) == -1)
		log_warn("%s: %s", __func__, srv->path);
}

static void
server_accept(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct ctl_server *srv = arg;
	int		 cfd, i;

	for (i = 0; i < CTL_ACCEPT_BATCH; i++) {
		if ((cfd = net_accept(srv->fd, NULL)) != -1) {
			server_admit(srv, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* Out of fds or memory: the listener stays readable, so
		 * pause instead of spinning on it. */
		log_warn("%s: %s: accept", __func__, srv->path);
		if (ev_fd_mod(loop, srv->fd, 0) == 0)
			ev_timer_start(loop, &srv->resume, CTL_ACCEPT_PAUSE_MS);
		return;
	}
}

struct ctl_server *
ctl_server_new(struct ev_loop *loop, const char *path, mode_t mode,
    const struct ctl_command *table, void *arg, char *err, size_t errlen)
{
	struct ctl_server *srv;
	struct stat	 st;
	bool		 own_help;

	if (table_check(table, &own_help, err, errlen) == -1)
		return NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->path = strdup(path)) == NULL) {
		seterr(err, errlen, "ctl %s: %s", path, strerror(errno));
		free(srv);
		return NULL;
	}
	srv->loop = loop;
	srv->table = table;
	srv->arg = arg;
	srv->own_help = own_help;
	srv->limits = (struct ctl_limits){ CTL_TIMEOUT_MS, CTL_STALL_MS,
	    CTL_MAX_CONNS, CTL_OUTPUT_MAX };
	LIST_INIT(&srv->conns);
	ev_timer_init(&srv->resume, server_resume, srv);
	if ((srv->fd = net_listen_unix(path, mode, 0, err, errlen)) == -1)
		goto fail;
	/* Remember which file is ours, so free never removes another's. */
	if (lstat(path, &st) == -1) {
		seterr(err, errlen, "ctl %s: %s", path, strerror(errno));
		goto fail_unbind;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	if (ev_fd_add(loop, srv->fd, EV_READ, server_accept, srv) == -1) {
		seterr(err, errlen, "ctl %s: watch listener: %s", path,
		    strerror(errno));
		goto fail_unbind;
	}
	return srv;
fail_unbind:
	unlink(path);
	close(srv->fd);
fail:
	free(srv->path);
	free(srv);
	return NULL;
}

void
ctl_server_free(struct ctl_server *srv)
{
	struct ctl_conn	*c;
	struct stat	 st;

	if (srv == NULL)
		return;
	while ((c = LIST_FIRST(&srv->conns)) != NULL) {
		/* Best effort: hand over what is already buffered. */
		if (c->state != CONN_DEAD && buf_used(&c->out) > 0)
			(void)send(c->fd, buf_head(&c->out), buf_used(&c->out),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		ctl_conn_free(c);
	}
	ev_timer_stop(srv->loop, &srv->resume);
	ev_fd_del(srv->loop, srv->fd);
	close(srv->fd);
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino && unlink(srv->path) == -1)
		log_warn("%s: unlink %s", __func__, srv->path);
	free(srv->path);
	free(srv);
}

void
ctl_server_forget(struct ctl_server *srv)
{
	struct ctl_conn	*c;

	if (srv == NULL)
		return;
	/* Only close and free: the loop, the socket file and the
	 * connections' peers are the parent's business. */
	while ((c = LIST_FIRST(&srv->conns)) != NULL) {
		LIST_REMOVE(c, entry);
		if (c->fd != -1)
			close(c->fd);
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
	}
	close(srv->fd);
	free(srv->path);
	free(srv);
}

void
ctl_server_set_limits(struct ctl_server *srv, const struct ctl_limits *l)
{
	if (l->timeout_ms != 0)
		srv->limits.timeout_ms = l->timeout_ms;
	if (l->stall_ms != 0)
		srv->limits.stall_ms = l->stall_ms;
	if (l->max_conns != 0)
		srv->limits.max_conns = l->max_conns;
	/* Room for an error line whatever the configuration says. */
	if (l->output_max != 0)
		srv->limits.output_max = l->output_max < CTL_OUTPUT_MIN ?
		    CTL_OUTPUT_MIN : l->output_max;
}

void
ctl_server_set_timeout(struct ctl_server *srv, unsigned ms)
{
	struct ctl_limits l = { .timeout_ms = ms };

	ctl_server_set_limits(srv, &l);
}

int
ctl_server_allow_gid(struct ctl_server *srv, gid_t gid)
{
	size_t	 i;

	for (i = 0; i < srv->nallow; i++)
		if (srv->allow[i] == gid)
			return 0;
	if (srv->nallow >= CTL_ALLOW_GIDS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	srv->allow[srv->nallow++] = gid;
	return 0;
}

struct ctl_stats
ctl_server_stats(const struct ctl_server *srv)
{
	return srv->stats;
}

const char *
ctl_server_path(const struct ctl_server *srv)
{
	return srv->path;
}

static const struct ctl_command *
command_find(const struct ctl_server *srv, const char *name)
{
	const struct ctl_command *cmd;

	for (cmd = srv->table; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	if (!srv->own_help && strcmp(name, builtin_help.name) == 0)
		return &builtin_help;
	return NULL;
}

static void
help_builtin(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	const struct ctl_command *cmd;

	for (cmd = c->srv->table; cmd->name != NULL; cmd++)
		ctl_printf(c, "%s\n", cmd->usage != NULL ? cmd->usage :
		    cmd->name);
	ctl_printf(c, "%s\n", builtin_help.usage);
}

/* The request line is buf_head(&c->in)[0 .. len), its LF at len. */
void
ctl_dispatch(struct ctl_conn *c, size_t len)
{
	struct ctl_server *srv = c->srv;
	const struct ctl_command *cmd;
	char		*line = buf_head(&c->in), *argv[CTL_MAX_WORDS + 1];
	const char	*why;
	int		 argc, nargs;

	ev_timer_stop(srv->loop, &c->timer);
	srv->stats.requests++;
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len > CTL_LINE_MAX) {
		ctl_conn_fail(c, "request too long (max %d bytes)",
		    CTL_LINE_MAX);
		return;
	}
	if (memchr(line, '\0', len) != NULL) {
		ctl_conn_fail(c, "control character in request");
		return;
	}
	if ((argc = ctl_split(line, argv, CTL_MAX_WORDS, &why)) == -1) {
		ctl_conn_fail(c, "%s", why);
		return;
	}
	if (argc == 0) {
		ctl_conn_fail(c, "empty request (try help)");
		return;
	}
	if ((cmd = command_find(srv, argv[0])) == NULL) {
		ctl_conn_fail(c, "unknown command '%s' (try help)", argv[0]);
		return;
	}
	nargs = argc - 1;
	if (nargs < cmd->min_args ||
	    (cmd->max_args != -1 && nargs > cmd->max_args)) {
		ctl_conn_fail(c, "usage: %s", cmd->usage != NULL ? cmd->usage :
		    cmd->name);
		return;
	}
	log_debug("%s: %s: uid %u pid %d: %s", __func__, srv->path,
	    (unsigned)c->uid, (int)c->pid, argv[0]);
	c->state = CONN_HANDLING;
	cmd->fn(c, argc, argv, srv->arg);
	/* The words die with the input buffer. */
	buf_free(&c->in);
	if (c->state == CONN_HANDLING)
		ctl_end(c);
}

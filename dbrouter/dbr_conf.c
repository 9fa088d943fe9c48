/* dbrouter configuration:
 *
 *	server "db-1" "127.0.0.1:3306" [tls]	(or "unix:/run/mysqld/mysqld.sock")
 *	backend-tls { ca "ca.pem"  name "db.internal"  verify on }
 *	monitor-user "dbrouter"
 *	monitor-password-file "/etc/stackd/dbrouter.monitor"
 *	check-interval 1s  check-timeout 800ms  fall 3  rise 2
 *	listen "127.0.0.1:3307" [tls [required]] (or "unix:/run/stackd/mysql.sock")
 *	certificate "cert.pem" "key.pem"	(tls listeners; several: SNI)
 *	users-file "/etc/stackd/dbrouter.users"
 *	max-connections 1000  client-idle-timeout 8h  max-packet 16M
 *	max-lag 10s  writer-wait 10s
 *	read-your-writes yes  read-your-writes-timeout 1s
 *	backend-max-connections 200  backend-idle-timeout 60s
 *	connect-timeout 2s
 *	failover yes  semi-sync yes  failover-timeout 10s  switchover-timeout 10s
 *	replication-user "repl"  replication-password-file "/etc/stackd/dbrouter.repl"
 *	(the failover rows and their checks are dbr_failover.c's)
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "dbr.h"

#define DBR_SECRET_MAX	256

int
dbr_read_secret(const char *path, char **out, char *err, size_t errlen)
{
	char		 buf[DBR_SECRET_MAX + 2];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || (st.st_mode & S_IROTH) != 0) {
		close(fd);
		return seterr(err, errlen, "%s: readable by others (chmod o-r)",
		    path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) > DBR_SECRET_MAX)
		return seterr(err, errlen, "%s: longer than %d bytes", path,
		    DBR_SECRET_MAX);
	if ((*out = strdup(buf)) == NULL)
		return seterr(err, errlen, "out of memory");
	return 0;
}

/* server NAME ADDRESS: host:port (numeric, port 3306 by default) or
 * unix:/path. */
static int
set_server(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct dbr_conf	*conf = obj;
	struct dbr_server_conf *s;
	struct net_addr	 addr;
	char		 err[256], host[NET_ADDRSTRLEN];
	int		 i;

	if (conf->nservers == DBR_MAX_SERVERS)
		return conf_error(ctx, st, "server: at most %d", DBR_MAX_SERVERS);
	for (i = 0; i < conf->nservers; i++)
		if (strcmp(conf->servers[i].name, st->argv[1]) == 0)
			return conf_error(ctx, st, "server %s: defined twice",
			    st->argv[1]);
	if (strlen(st->argv[1]) >= DBR_NAME_MAX)
		return conf_error(ctx, st, "server: name longer than %d",
		    DBR_NAME_MAX - 1);
	if (st->argc == 4 && strcmp(st->argv[3], "tls") != 0)
		return conf_error(ctx, st, "server %s: expected 'tls' after the "
		    "address, got \"%s\"", st->argv[1], st->argv[3]);
	if (net_addr_parse(st->argv[2], 3306, &addr, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "server %s: %s", st->argv[1], err);
	s = &conf->servers[conf->nservers++];
	s->addr = addr;
	s->tls = st->argc == 4;
	if ((s->name = strdup(st->argv[1])) == NULL ||
	    (s->addr_str = strdup(st->argv[2])) == NULL)
		return conf_error(ctx, st, "out of memory");
	if (strncmp(st->argv[2], "unix:", 5) == 0) {
		if ((s->socket = strdup(st->argv[2] + 5)) == NULL)
			return conf_error(ctx, st, "out of memory");
		return 0;
	}
	net_addr_host(&addr, host, sizeof(host));
	s->port = net_addr_port(&addr);
	if ((s->host = strdup(host)) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static int
set_password_file(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct dbr_conf	*conf = obj;
	char		 err[512];

	if (dbr_read_secret(st->argv[1], &conf->monitor_password, err,
	    sizeof(err)) == -1)
		return conf_error(ctx, st, "monitor-password-file: %s", err);
	return 0;
}

static int
set_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct dbr_conf	*conf = obj;
	struct dbr_listen_conf *l;
	char		 err[256];
	int		 i;

	if (conf->nlisten == DBR_MAX_LISTEN)
		return conf_error(ctx, st, "listen: at most %d", DBR_MAX_LISTEN);
	l = &conf->listen[conf->nlisten];
	if (st->argc >= 3) {
		if (strcmp(st->argv[2], "tls") != 0)
			return conf_error(ctx, st, "listen: expected 'tls' after "
			    "the address, got \"%s\"", st->argv[2]);
		if (st->argc == 4 && strcmp(st->argv[3], "required") != 0)
			return conf_error(ctx, st, "listen: expected 'required' "
			    "after 'tls', got \"%s\"", st->argv[3]);
		l->tls = true;
		l->tls_required = st->argc == 4;
	}
	if (net_addr_parse(st->argv[1], 3306, &l->addr, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "listen: %s", err);
	for (i = 0; i < conf->nlisten; i++)
		if (net_addr_equal(&conf->listen[i].addr, &l->addr))
			return conf_error(ctx, st, "listen: %s given twice",
			    st->argv[1]);
	if ((l->addr_str = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	conf->nlisten++;
	return 0;
}

/* certificate CERT KEY: the listeners that say tls present it (the first
 * one by default, others by SNI). */
static int
set_certificate(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct dbr_conf	*conf = obj;
	char		 err[512];

	if (conf->tls_server == NULL && (conf->tls_server =
	    tls_server_new(NULL, err, sizeof(err))) == NULL)
		return conf_error(ctx, st, "certificate: %s", err);
	if (tls_server_add_cert(conf->tls_server, st->argv[1], st->argv[2],
	    err, sizeof(err)) == -1)
		return conf_error(ctx, st, "certificate: %s", err);
	conf->ncerts++;
	return 0;
}

static int
set_backend_tls(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	return conf_tls_client_block(ctx, st,
	    &((struct dbr_conf *)obj)->backend_tls);
}

static int
set_users_file(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct dbr_conf	*conf = obj;
	char		 err[512];

	if (dbr_users_load(st->argv[1], &conf->users, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "users-file: %s", err);
	if ((conf->users_file = strdup(st->argv[1])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static const struct conf_directive dbr_directives[] = {
	SERVICE_DIRECTIVES(struct dbr_conf, svc),
	{ "server", 2, 3, CONF_BLOCK_NONE, 0, set_server, 0, 0, 0 },
	{ "backend-tls", 0, 0, CONF_BLOCK_REQUIRED, CONF_ONCE, set_backend_tls,
	    0, 0, 0 },
	{ "monitor-user", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct dbr_conf, monitor_user), 0, 0 },
	{ "monitor-password-file", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    set_password_file, 0, 0, 0 },
	{ "check-interval", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct dbr_conf, check_interval_ms), 100, 3600 * 1000 },
	{ "check-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct dbr_conf, check_timeout_ms), 10, 3600 * 1000 },
	{ "fall", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_unsigned,
	    offsetof(struct dbr_conf, fall), 1, 100 },
	{ "rise", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_unsigned,
	    offsetof(struct dbr_conf, rise), 1, 100 },
	{ "listen", 1, 3, CONF_BLOCK_NONE, 0, set_listen, 0, 0, 0 },
	{ "certificate", 2, 2, CONF_BLOCK_NONE, 0, set_certificate, 0, 0, 0 },
	{ "users-file", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, set_users_file,
	    0, 0, 0 },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_unsigned, offsetof(struct dbr_conf, max_clients), 1,
	    1000000 },
	{ "client-idle-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct dbr_conf, client_idle_ms),
	    1000, 7 * 24 * 3600 * 1000ull },
	{ "max-packet", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_size,
	    offsetof(struct dbr_conf, max_packet), 1024, 1024 * 1024 * 1024 },
	{ "max-lag", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct dbr_conf, max_lag_ms), 0, 24 * 3600 * 1000 },
	{ "writer-wait", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_duration,
	    offsetof(struct dbr_conf, writer_wait_ms), 0, 3600 * 1000 },
	{ "read-your-writes", 0, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_flag, offsetof(struct dbr_conf, read_your_writes), 0, 0 },
	{ "read-your-writes-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct dbr_conf, ryw_timeout_ms), 0,
	    3600 * 1000 },
	{ "backend-max-connections", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_unsigned, offsetof(struct dbr_conf, backend_max), 1,
	    100000 },
	{ "backend-idle-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct dbr_conf, backend_idle_ms),
	    100, 24 * 3600 * 1000 },
	{ "connect-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,
	    conf_set_duration, offsetof(struct dbr_conf, connect_timeout_ms),
	    10, 3600 * 1000 },
	/* ---- failover ---- */
	DBR_FAILOVER_DIRECTIVES(struct dbr_conf, fo),
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

/* What needs another directive, named at the statement that needs it. */
static void
check_tls(struct conf_ctx *ctx, const struct conf_stmt *root,
    const struct dbr_conf *conf)
{
	const struct conf_stmt *st;
	bool		 any = false;
	int		 i;

	for (i = 0; i < conf->nlisten; i++)
		any |= conf->listen[i].tls;
	for (st = root; st != NULL; st = st->next) {
		if (strcmp(st->argv[0], "listen") == 0 && st->argc >= 3 &&
		    conf->ncerts == 0)
			conf_error(ctx, st, "listen %s: tls needs a certificate",
			    st->argv[1]);
		else if (strcmp(st->argv[0], "certificate") == 0 && !any) {
			conf_error(ctx, st, "certificate: no listen says tls");
			any = true;	/* once */
		} else if (strcmp(st->argv[0], "server") == 0 &&
		    st->argc == 4 && conf->backend_tls.tls == NULL)
			conf_error(ctx, st, "server %s: tls needs a backend-tls "
			    "block (with a ca, or 'verify off')", st->argv[1]);
		else if (strcmp(st->argv[0], "server") == 0 &&
		    st->argc == 4 && conf->backend_tls.verify &&
		    conf->backend_tls.name == NULL &&
		    strncmp(st->argv[2], "unix:", 5) == 0)
			conf_error(ctx, st, "server %s: verifying a unix socket "
			    "server needs a name in backend-tls", st->argv[1]);
	}
}

void *
dbr_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct dbr_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_error(ctx, NULL, "out of memory");
		return NULL;
	}
	conf->check_interval_ms = 1000;
	conf->check_timeout_ms = 800;
	conf->fall = 3;
	conf->rise = 2;
	conf->max_clients = 1000;
	conf->client_idle_ms = 8 * 3600 * 1000;
	conf->max_packet = 16 * 1024 * 1024;
	conf->max_lag_ms = 10 * 1000;
	conf->writer_wait_ms = 10 * 1000;
	conf->ryw_timeout_ms = 1000;
	conf->backend_max = 200;
	conf->backend_idle_ms = 60 * 1000;
	conf->connect_timeout_ms = 2000;
	/* ---- failover ---- */
	conf->fo.timeout_ms = 10000;
	conf->fo.lock = true;
	conf->fo.switchover_timeout_ms = 10000;
	if (conf_apply(ctx, root, dbr_directives, conf) == 0) {
		if (conf->nservers == 0)
			conf_error(ctx, NULL, "server: at least one needed");
		if (conf->monitor_user == NULL)
			conf_error(ctx, NULL, "monitor-user: needed to check "
			    "the servers");
		if (conf->check_timeout_ms > conf->check_interval_ms)
			conf_error(ctx, NULL, "check-timeout longer than "
			    "check-interval");
		if (conf->nlisten > 0 && conf->users_file == NULL)
			conf_error(ctx, NULL, "users-file: needed to check "
			    "the clients that connect to listen");
		check_tls(ctx, root, conf);
		/* ---- failover ---- */
		dbr_failover_conf_check(conf, ctx);
	}
	return conf;
}

void
dbr_conf_free(void *arg)
{
	struct dbr_conf	*conf = arg;
	int		 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nservers; i++) {
		free(conf->servers[i].name);
		free(conf->servers[i].addr_str);
		free(conf->servers[i].host);
		free(conf->servers[i].socket);
	}
	for (i = 0; i < conf->nlisten; i++)
		free(conf->listen[i].addr_str);
	free(conf->users_file);
	tls_config_free(conf->tls_server);
	conf_tls_client_clear(&conf->backend_tls);
	dbr_users_free(&conf->users);
	service_conf_clear(&conf->svc);
	free(conf->monitor_user);
	if (conf->monitor_password != NULL)
		explicit_bzero(conf->monitor_password,
		    strlen(conf->monitor_password));
	free(conf->monitor_password);
	/* ---- failover ---- */
	dbr_failover_conf_free(&conf->fo);
	free(conf);
}

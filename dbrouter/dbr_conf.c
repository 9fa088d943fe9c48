/* dbrouter configuration:
 *
 *	server "db-1" "127.0.0.1:3306"		(or "unix:/run/mysqld/mysqld.sock")
 *	monitor-user "dbrouter"
 *	monitor-password-file "/etc/stackd/dbrouter.monitor"
 *	check-interval 1s  check-timeout 800ms  fall 3  rise 2
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
	if (net_addr_parse(st->argv[2], 3306, &addr, err, sizeof(err)) == -1)
		return conf_error(ctx, st, "server %s: %s", st->argv[1], err);
	s = &conf->servers[conf->nservers++];
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

static const struct conf_directive dbr_directives[] = {
	SERVICE_DIRECTIVES(struct dbr_conf, svc),
	{ "server", 2, 2, CONF_BLOCK_NONE, 0, set_server, 0, 0, 0 },
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
	/* ---- failover ---- */
	DBR_FAILOVER_DIRECTIVES(struct dbr_conf, fo),
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

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
	/* ---- failover ---- */
	conf->fo.timeout_ms = 10000;
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

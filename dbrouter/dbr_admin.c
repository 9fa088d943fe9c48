/* dbrouter's own ctl commands:
 *
 *	server drain|maint|ready NAME
 *	switchover NAME [TIMEOUT]	(dbr_failover.c)
 *
 * drain: the server gets no new sessions' reads (a session that reads
 * from it moves to another replica at its next read); maint: no traffic
 * at all, its pooled connections are closed, and writes wait for a
 * writer (writer-wait) if it is the writer; ready: back in service. The
 * state lasts until changed or dbrouter restarts. */
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "dbr.h"

static const char *const admin_words[] = { "ready", "drain", "maint" };

/* Pooled connections of a server taken out of service. */
static void
close_idle(struct dbr_server *s)
{
	while (s->idle != NULL)
		dbr_bconn_close(s->idle);
}

static void
cmd_server(struct ctl_conn *cc, int argc, char **argv, void *arg)
{
	struct dbr	*d = service_arg(arg);
	struct dbr_server *s;
	int		 i;

	(void)argc;
	for (i = ADMIN_READY; i <= ADMIN_MAINT; i++)
		if (strcmp(argv[1], admin_words[i]) == 0)
			break;
	if (i > ADMIN_MAINT) {
		ctl_reply_error(cc, "server: expected drain, maint or ready");
		return;
	}
	if ((s = dbr_server_find(d, argv[2])) == NULL) {
		ctl_reply_error(cc, "server %s: no such server", argv[2]);
		return;
	}
	if (s->admin != (enum dbr_admin)i)
		log_warnx("server %s: %s (was %s), by dbctl", s->name,
		    admin_words[i], admin_words[s->admin]);
	s->admin = (enum dbr_admin)i;
	if (s->admin == ADMIN_MAINT)
		close_idle(s);
	ctl_printf(cc, "server %s: %s\n", s->name, admin_words[i]);
}

const struct ctl_command dbr_commands[] = {
	{ "server", 2, 2, "server drain|maint|ready NAME", cmd_server },
	{ "switchover", 1, 2, "switchover NAME [TIMEOUT]", dbr_cmd_switchover },
	{ NULL, 0, 0, NULL, NULL }
};

/* fwd_confirm — fwctl apply [--confirm-within DURATION] [--force] and
 * fwctl confirm.
 *
 * apply reads the policy file as reload does, and like reload (and SIGHUP)
 * first checks that the new ruleset would not lock out a current SSH
 * session (fwd_guard.c); apply --force is the one way to skip the check. With --confirm-within the policy in force before stays
 * referenced and a timer runs: unless confirm arrives in time, that policy
 * is applied again. While a confirm is pending, reload and apply are
 * refused, so what the timer restores is always the state before the
 * apply. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "fwd.h"

#define SSH_PORT		22	/* when no policy has a service ssh */
#define SSH_RANGES_MAX		64
#define ROLLBACK_RETRY_MS	250
#define CONFIRM_MAX_MS		(24ULL * 3600 * 1000)

static void
rollback(struct ev_loop *loop, void *arg)
{
	struct fwd	*fw = arg;
	char		 err[512];

	if (fwd_apply(fw, fw->prev, err, sizeof(err)) == -1) {
		log_warnx("rollback failed, retrying: %s", err);
		ev_timer_start(loop, &fw->confirm, ROLLBACK_RETRY_MS);
		return;
	}
	fw_policy_free(fw->prev);
	fw->prev = NULL;
	fw->rollbacks++;
	log_warnx("apply not confirmed in time: previous ruleset restored");
}

void
fwd_confirm_init(struct fwd *fw)
{
	ev_timer_init(&fw->confirm, rollback, fw);
}

void
fwd_confirm_stop(struct fwd *fw)
{
	if (service_loop(fw->svc) != NULL)
		ev_timer_stop(service_loop(fw->svc), &fw->confirm);
}

bool
fwd_confirm_pending(const struct fwd *fw)
{
	return fw->prev != NULL;
}

/* The guard */

struct guard {
	struct fwd		*fw;
	const struct fw_ruleset	*rs;
	char			*err;
	size_t			 errlen;
	bool			 refused;
};

static bool
in_set(const char *set, int family, const uint8_t *addr, void *arg)
{
	struct fw_elem	 e;

	if (strcmp(set, FWD_BAN4) != 0 && strcmp(set, FWD_BAN6) != 0)
		return false;	/* user sets start empty */
	memset(&e, 0, sizeof(e));
	e.family = family;
	memcpy(e.addr, addr, family == AF_INET ? 4 : 16);
	return fw_bans_find(arg, &e) != -1;
}

static void
check_peer(int family, const uint8_t *addr, uint16_t port, void *arg)
{
	struct guard	*g = arg;
	char		 a[INET6_ADDRSTRLEN];

	if (g->refused || fw_ruleset_admits(g->rs, family, addr, port,
	    in_set, &g->fw->bans))
		return;
	g->refused = true;
	inet_ntop(family, addr, a, sizeof(a));
	snprintf(g->err, g->errlen, "the policy would lock out the SSH "
	    "session from %s: no rule accepts a new tcp/%u connection from "
	    "it (\"fwctl apply --force\" applies it anyway)", a, port);
}

/* The SSH ports: those of the service ssh in the policy in force (where
 * the sessions came in) and in the new one, or 22 if neither has one. */
int
fwd_guard_check(struct fwd *fw, const struct fw_policy *p,
    const struct fw_ruleset *rs, char *err, size_t errlen)
{
	struct guard	 g = { fw, rs, err, errlen, false };
	struct fw_port	 ports[SSH_RANGES_MAX];
	size_t		 n;

	n = fw_ssh_ports(fw->policy, ports, 0, SSH_RANGES_MAX);
	n = fw_ssh_ports(p, ports, n, SSH_RANGES_MAX);
	if (n == 0)
		ports[n++] = (struct fw_port){ IPPROTO_TCP, SSH_PORT, SSH_PORT };
	if (fw_ssh_peers(ports, n, check_peer, &g) == -1) {
		snprintf(err, errlen, "cannot read /proc/net/tcp to find SSH "
		    "sessions (\"fwctl apply --force\" applies anyway)");
		return -1;
	}
	return g.refused ? -1 : 0;
}

/* ctl commands */

void
fwd_cmd_apply(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	struct fwd	*fw = service_arg(svc);
	struct buf	 errors;
	uint64_t	 ms = 0;
	const char	*within = NULL;
	bool		 force = false;
	char		 err[512];
	int		 i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = true;
		else if (strcmp(argv[i], "--confirm-within") == 0 &&
		    i + 1 < argc && conf_parse_duration(argv[i + 1], &ms) == 0 &&
		    ms > 0 && ms <= CONFIRM_MAX_MS)
			within = argv[++i];
		else {
			ctl_reply_error(c, "apply: expected \"apply "
			    "[--confirm-within DURATION] [--force]\" with a "
			    "duration from 1ms to 1d, got \"%s\"", argv[i]);
			return;
		}
	}
	if (fwd_confirm_pending(fw)) {
		ctl_reply_error(c, "apply: an earlier apply awaits \"fwctl "
		    "confirm\"");
		return;
	}
	fw->force = force;
	fw->keep_prev = ms > 0;
	buf_init(&errors, 64 * 1024);
	rc = service_reload(svc, err, sizeof(err), &errors);
	fw->force = fw->keep_prev = false;
	if (rc == -1) {
		ctl_reply_error(c, "apply: %s", err);
		ctl_write(c, buf_head(&errors), buf_used(&errors));
	} else {
		if (fw->prev != NULL) {
			ev_timer_start(service_loop(svc), &fw->confirm, ms);
			fw->confirm_at = ev_now(service_loop(svc)) + ms;
			log_info("applied; the previous ruleset comes back in "
			    "%llu ms unless confirmed", (unsigned long long)ms);
		}
		ctl_reply_ok(c);
		if (fw->prev != NULL)
			ctl_printf(c, "applied: \"fwctl confirm\" within %s or "
			    "the previous ruleset is restored\n", within);
	}
	buf_free(&errors);
}

void
fwd_cmd_confirm(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct fwd	*fw = service_arg(arg);

	if (!fwd_confirm_pending(fw)) {
		ctl_reply_error(c, "confirm: no apply awaits confirmation");
		return;
	}
	ev_timer_stop(service_loop(fw->svc), &fw->confirm);
	fw_policy_free(fw->prev);
	fw->prev = NULL;
	log_info("apply confirmed");
	ctl_reply_ok(c);
}

void
fwd_confirm_status(struct fwd *fw, struct ctl_conn *c)
{
	uint64_t	 now = ev_now(service_loop(fw->svc));

	if (fwd_confirm_pending(fw))
		ctl_printf(c, "confirm pending: rollback in %llu ms\n",
		    (unsigned long long)(fw->confirm_at > now ?
		    fw->confirm_at - now : 0));
	else
		ctl_printf(c, "confirm pending: no\n");
	ctl_printf(c, "rollbacks %llu\n", (unsigned long long)fw->rollbacks);
}

/* fwd — nftables firewall manager: main, apply, service callbacks, show
 * and per-rule metrics (bans: fwd_bans.c, drift: fwd_drift.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "metrics.h"
#include "fwd.h"

#define FWD_VERSION	"0.1"

/* fwd -n -v prints the ruleset it would apply. */
static bool print_nft;

static void *
fwd_conf_load(const struct conf_stmt *root, struct conf_ctx *ctx)
{
	struct fw_policy *p = fw_policy_load(root, ctx);
	struct fw_ruleset rs;
	struct buf	 out;
	char		 err[256];

	if (p == NULL || !print_nft)
		return p;
	if (fw_compile(p, &rs, err, sizeof(err)) == -1) {
		conf_error(ctx, NULL, "%s", err);
		fw_policy_free(p);
		return NULL;
	}
	buf_init(&out, 64 * 1024 * 1024);
	if (fw_ruleset_nft(&rs, &out) == 0)
		fwrite(buf_head(&out), 1, buf_used(&out), stdout);
	buf_free(&out);
	fw_ruleset_free(&rs);
	return p;
}

/* Counters: the kernel's restart at 0 with each apply; ours go on. */

/* The kernel dumps the counters in the order the batch made them: try
 * the one after the last found first (a reload with 5,000 rules made this
 * a quarter of its time when it searched from the start each time). */
static ssize_t
counter_index(const struct fw_ruleset *rs, const char *name, size_t *hint)
{
	size_t	 i, k;

	for (k = 0; k < rs->ncounters; k++) {
		i = (*hint + k) % rs->ncounters;
		if (strcmp(rs->counters[i], name) == 0) {
			*hint = i + 1;
			return (ssize_t)i;
		}
	}
	return -1;
}

static void
sync_one(const char *name, uint64_t pkts, uint64_t bytes, void *arg)
{
	struct fwd	*fw = arg;
	const char	*labels[] = { name, NULL };
	ssize_t		 i = counter_index(&fw->rs, name, &fw->counter_hint);

	if (i == -1 || fw->m_pkts == NULL)
		return;
	if (pkts >= fw->last_pkts[i])
		counter_add_u64(metric_with(fw->m_pkts, labels),
		    pkts - fw->last_pkts[i]);
	if (bytes >= fw->last_bytes[i])
		counter_add_u64(metric_with(fw->m_bytes, labels),
		    bytes - fw->last_bytes[i]);
	fw->last_pkts[i] = pkts;
	fw->last_bytes[i] = bytes;
}

static void
sync_counters(void *arg)
{
	struct fwd	*fw = arg;
	char		 err[256];

	if (fw->nl != NULL && fw->rs.ncounters > 0 &&
	    fw_nl_counters(fw->nl, sync_one, fw, err, sizeof(err)) == -1)
		log_warnx("%s", err);
}

/* From the NEWGEN the kernel echoed for the batch: exactly the generation
 * of fwd's commit, with no round trip (and a foreign commit right after
 * it still shows as a different generation). GETGEN only if none came. */
void
fwd_note_genid(struct fwd *fw)
{
	char	 err[256];

	if ((fw->own_genid = fw_nl_commit_genid(fw->nl)) != 0)
		return;
	if (fw_nl_genid(fw->nl, &fw->own_genid, err, sizeof(err)) == -1)
		log_warnx("%s", err);
}

/* Compile, read the generation, send one batch. On failure nothing in the
 * kernel changed and fw->rs is the ruleset still applied. */
int
fwd_apply(struct fwd *fw, struct fw_policy *p, char *err, size_t errlen)
{
	struct fw_ruleset rs;
	struct fw_batch	 b;
	struct fw_elem	*bans = NULL;
	size_t		 nbans = 0;
	uint64_t	*lp, *lb;
	uint32_t	 genid;
	size_t		 bytes = 0;
	int		 rc = -1;
	bool		 deaf = false;

	if (fw_compile(p, &rs, err, errlen) == -1)
		return -1;
	if (fw->guard && fwd_guard_check(fw, p, &rs, err, errlen) == -1) {
		fw_ruleset_free(&rs);
		return -1;
	}
	lp = calloc(rs.ncounters, sizeof(*lp));
	lb = calloc(rs.ncounters, sizeof(*lb));
	if (lp == NULL || lb == NULL) {
		snprintf(err, errlen, "apply: out of memory");
		goto out;
	}
	if (fwd_bans_elems(fw, &bans, &nbans, NULL, err, errlen) == -1)
		goto out;
	sync_counters(fw);
	if (fw_nl_genid(fw->nl, &genid, err, errlen) == 0 &&
	    fw_batch_build(&rs, fw_nl_seq(fw->nl, 0), genid, bans, nbans,
	    &b, err, errlen) == 0) {
		fw_nl_seq(fw->nl, (uint32_t)b.ninfo + 2);
		bytes = buf_used(&b.buf);
		fw_mon_deaf(fw->mon, true);
		deaf = true;
		rc = fw_nl_send(fw->nl, &b, err, errlen);
		fw_batch_free(&b);
	}
	free(bans);
out:
	if (rc == 0) {
		fw_ruleset_free(&fw->rs);
		free(fw->last_pkts);
		free(fw->last_bytes);
		fw->rs = rs;
		fw->last_pkts = lp;
		fw->last_bytes = lb;
		fw_policy_ref(p);
		if (fw->keep_prev)
			fw->prev = fw->policy;
		else
			fw_policy_free(fw->policy);
		fw->policy = p;
		fw->applies++;
		fw_mon_buffer(fw->mon, p->monitor_buffer != 0 ?
		    p->monitor_buffer : FWD_MONITOR_BUFFER);
		fw->elems_unknown = false;	/* read back or never changed */
		fwd_note_genid(fw);
		log_info("applied table inet %s: %zu rules, %zu sets, %zu "
		    "elements, one batch of %zu bytes", FWD_TABLE, rs.nrules,
		    rs.nsets, nbans, bytes);
	} else {
		fw_ruleset_free(&rs);
		free(lp);
		free(lb);
		fw->failures++;
	}
	/* After the generation was noted: a foreign commit meanwhile shows. */
	if (deaf)
		fw_mon_deaf(fw->mon, false);
	return rc;
}

static int
fwd_start(struct service *svc, void *conf, char *err, size_t errlen)
{
	static const char *const labels[] = { "rule", NULL };
	struct fwd	*fw = service_arg(svc);
	struct metrics	*m = service_metrics(svc);

	fw->svc = svc;
	fwd_confirm_init(fw);
	if ((fw->nl = fw_nl_open(err, errlen)) == NULL ||
	    fwd_drift_start(fw, err, errlen) == -1)
		return -1;
	fwd_bans_load(fw, conf);
	fw->elems_unknown = true;	/* a table left from before */
	fw->m_pkts = metrics_counter(m, "rule_packets_total",
	    "Packets that matched each rule of the policy.", labels);
	fw->m_bytes = metrics_counter(m, "rule_bytes_total",
	    "Bytes that matched each rule of the policy.", labels);
	if (fw->m_pkts == NULL || fw->m_bytes == NULL ||
	    metrics_on_render(m, sync_counters, fw) == -1)
		fatalx("%s: metrics registration", __func__);
	return fwd_apply(fw, conf, err, errlen);
}

static int
fwd_reload(struct service *svc, void *conf, char *err, size_t errlen)
{
	struct fwd	*fw = service_arg(svc);
	int		 rc;

	if (fwd_confirm_pending(fw)) {
		snprintf(err, errlen, "an apply awaits \"fwctl confirm\": "
		    "confirm it or let it roll back first");
		return -1;
	}
	/* reload, SIGHUP and apply check SSH sessions; apply --force not. */
	fw->guard = !fw->force;
	rc = fwd_apply(fw, conf, err, errlen);
	fw->guard = false;
	return rc;
}

static void
fwd_cleanup(struct service *svc)
{
	struct fwd	*fw = service_arg(svc);

	fwd_drift_stop(fw);
	fwd_confirm_stop(fw);
	fwd_bans_stop(fw);
	fw_policy_free(fw->policy);
	fw_policy_free(fw->prev);
	fw->policy = fw->prev = NULL;
	fw_nl_close(fw->nl);
	fw->nl = NULL;
	fw_ruleset_free(&fw->rs);
	free(fw->last_pkts);
	free(fw->last_bytes);
	fw_bans_free(&fw->bans);
}

static void
fwd_status(struct service *svc, struct ctl_conn *c)
{
	struct fwd	*fw = service_arg(svc);
	char		 err[256];
	int		 present = fw_nl_table_exists(fw->nl, err, sizeof(err));

	ctl_printf(c, "table inet %s: %s\n", FWD_TABLE, present == 1 ?
	    "present" : present == 0 ? "missing" : err);
	ctl_printf(c, "rules %zu\ncounters %zu\nsets %zu\n", fw->rs.nrules,
	    fw->rs.ncounters, fw->rs.nsets);
	ctl_printf(c, "applies %llu\napply failures %llu\n",
	    (unsigned long long)fw->applies, (unsigned long long)fw->failures);
	fwd_drift_status(fw, c);
	fwd_confirm_status(fw, c);
	fwd_bans_status(fw, c);
}

/* ctl commands */

static void
cmd_show(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct service	*svc = arg;
	struct fw_ruleset rs;
	struct buf	 out;
	char		 err[256];

	if (argc == 2 && strcmp(argv[1], "--nft") != 0) {
		ctl_reply_error(c, "show: unknown option \"%s\" (expected "
		    "--nft)", argv[1]);
		return;
	}
	if (fw_compile(service_conf(svc), &rs, err, sizeof(err)) == -1) {
		ctl_reply_error(c, "show: %s", err);
		return;
	}
	buf_init(&out, CTL_OUTPUT_MAX);
	if (fw_ruleset_nft(&rs, &out) == -1)
		ctl_reply_error(c, "show: ruleset larger than %d bytes",
		    CTL_OUTPUT_MAX);
	else {
		ctl_reply_ok(c);
		ctl_write(c, buf_head(&out), buf_used(&out));
	}
	buf_free(&out);
	fw_ruleset_free(&rs);
}

static const struct ctl_command fwd_commands[] = {
	{ "show", 0, 1, "show [--nft]", cmd_show },
	{ "ban", 1, 3, "ban ADDR [for DURATION]", fwd_cmd_ban },
	{ "unban", 1, 1, "unban ADDR", fwd_cmd_unban },
	{ "list", 0, 0, "list", fwd_cmd_list },
	{ "apply", 0, 3, "apply [--confirm-within DURATION] [--force]",
	    fwd_cmd_apply },
	{ "confirm", 0, 0, "confirm", fwd_cmd_confirm },
	{ "diff", 0, 0, "diff", fwd_cmd_diff },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct service_ops fwd_ops = {
	.name = "fwd",
	.version = FWD_VERSION,
	.default_conf = "/etc/stackd/fwd.conf",
	/* It changes the firewall all along (drift repair, bans): root. */
	.default_user = "root",
	.service_conf_offset = offsetof(struct fw_policy, svc),
	.conf_load = fwd_conf_load,
	.conf_free = fw_policy_free,
	.start = fwd_start,
	.reload = fwd_reload,
	.status = fwd_status,
	.cleanup = fwd_cleanup,
	.commands = fwd_commands,
};

/* -n together with -v (separate or combined, before the first operand). */
static bool
want_print(int argc, char **argv)
{
	bool	 n = false, v = false;
	int	 i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		n |= strchr(argv[i], 'n') != NULL && argv[i][1] != 'f';
		v |= strchr(argv[i], 'v') != NULL && argv[i][1] != 'f';
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "-N") == 0)
			i++;
	}
	return n && v;
}

int
main(int argc, char **argv)
{
	struct fwd	 fw;

	memset(&fw, 0, sizeof(fw));
	print_nft = want_print(argc, argv);
	return service_main(&fwd_ops, argc, argv, &fw);
}

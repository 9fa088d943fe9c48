/* fwd — nftables firewall manager: main, apply, service callbacks, ctl
 * commands (show, ban, unban, list) and per-rule metrics. */
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
#define FWD_BANS_MAX	100000

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

static ssize_t
counter_index(const struct fw_ruleset *rs, const char *name)
{
	size_t	 i;

	for (i = 0; i < rs->ncounters; i++)
		if (strcmp(rs->counters[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static void
sync_one(const char *name, uint64_t pkts, uint64_t bytes, void *arg)
{
	struct fwd	*fw = arg;
	const char	*labels[] = { name, NULL };
	ssize_t		 i = counter_index(&fw->rs, name);

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

/* Bans: read back from the kernel so that an apply keeps them. */

struct bans {
	struct fw_elem	*e;
	size_t		 n;
};

static void
keep_ban(const char *set, const struct fw_elem *e, uint64_t expires_ms,
    void *arg)
{
	struct bans	*b = arg;
	struct fw_elem	*p;

	if (b->n >= FWD_BANS_MAX ||
	    (p = reallocarray(b->e, b->n + 1, sizeof(*p))) == NULL)
		return;
	b->e = p;
	p[b->n] = *e;
	if (e->timeout_ms != 0)		/* what is left of it */
		p[b->n].timeout_ms = expires_ms > 0 ? expires_ms : 1;
	b->n++;
}

static int
read_bans(struct fwd *fw, struct bans *b, char *err, size_t errlen)
{
	int	 rc;

	memset(b, 0, sizeof(*b));
	if ((rc = fw_nl_table_exists(fw->nl, err, errlen)) <= 0)
		return rc;
	if (fw_nl_elems(fw->nl, FWD_BAN4, keep_ban, b, err, errlen) == -1 ||
	    fw_nl_elems(fw->nl, FWD_BAN6, keep_ban, b, err, errlen) == -1) {
		/* A table made by an older policy may lack them: start over. */
		log_warnx("bans not kept: %s", err);
		b->n = 0;
	}
	return 0;
}

void
fwd_note_genid(struct fwd *fw)
{
	char	 err[256];

	if (fw_nl_genid(fw->nl, &fw->own_genid, err, sizeof(err)) == -1)
		log_warnx("%s", err);
}

/* Compile, read the generation, send one batch. On failure nothing in the
 * kernel changed and fw->rs is the ruleset still applied. */
int
fwd_apply(struct fwd *fw, const struct fw_policy *p, char *err, size_t errlen)
{
	struct fw_ruleset rs;
	struct fw_batch	 b;
	struct bans	 bans;
	uint64_t	*lp, *lb;
	uint32_t	 genid;
	int		 rc = -1;

	if (fw_compile(p, &rs, err, errlen) == -1)
		return -1;
	lp = calloc(rs.ncounters, sizeof(*lp));
	lb = calloc(rs.ncounters, sizeof(*lb));
	if (lp == NULL || lb == NULL) {
		snprintf(err, errlen, "apply: out of memory");
		goto out;
	}
	if (read_bans(fw, &bans, err, errlen) == -1)
		goto out;
	sync_counters(fw);
	if (fw_nl_genid(fw->nl, &genid, err, errlen) == 0 &&
	    fw_batch_build(&rs, fw_nl_seq(fw->nl, 0), genid, bans.e, bans.n,
	    &b, err, errlen) == 0) {
		fw_nl_seq(fw->nl, (uint32_t)b.ninfo + 2);
		rc = fw_nl_send(fw->nl, &b, err, errlen);
		fw_batch_free(&b);
	}
	free(bans.e);
out:
	if (rc == 0) {
		fw_ruleset_free(&fw->rs);
		free(fw->last_pkts);
		free(fw->last_bytes);
		fw->rs = rs;
		fw->last_pkts = lp;
		fw->last_bytes = lb;
		fw->applies++;
		fwd_note_genid(fw);
		log_info("applied table inet %s: %zu rules, %zu sets",
		    FWD_TABLE, rs.nrules, rs.nsets);
	} else {
		fw_ruleset_free(&rs);
		free(lp);
		free(lb);
		fw->failures++;
	}
	return rc;
}

static int
fwd_start(struct service *svc, void *conf, char *err, size_t errlen)
{
	static const char *const labels[] = { "rule", NULL };
	struct fwd	*fw = service_arg(svc);
	struct metrics	*m = service_metrics(svc);

	fw->svc = svc;
	if ((fw->nl = fw_nl_open(err, errlen)) == NULL ||
	    fwd_drift_start(fw, err, errlen) == -1)
		return -1;
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
	return fwd_apply(service_arg(svc), conf, err, errlen);
}

static void
fwd_cleanup(struct service *svc)
{
	struct fwd	*fw = service_arg(svc);

	fwd_drift_stop(fw);
	fw_nl_close(fw->nl);
	fw->nl = NULL;
	fw_ruleset_free(&fw->rs);
	free(fw->last_pkts);
	free(fw->last_bytes);
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

static int
parse_addr(const char *s, struct fw_elem *e)
{
	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, s, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, s, e->addr) == 1)
		e->family = AF_INET6;
	else
		return -1;
	return 0;
}

/* ban ADDR [for DURATION], unban ADDR: one small batch each. */
static void
ban_change(struct ctl_conn *c, int argc, char **argv, void *arg, bool add)
{
	struct fwd	*fw = service_arg(arg);
	struct fw_batch	 b;
	struct fw_elem	 e;
	char		 err[512];

	if (parse_addr(argv[1], &e) == -1) {
		ctl_reply_error(c, "%s: expected an IPv4 or IPv6 address, got "
		    "\"%s\"", argv[0], argv[1]);
		return;
	}
	if (add && argc > 2 && (argc != 4 || strcmp(argv[2], "for") != 0 ||
	    conf_parse_duration(argv[3], &e.timeout_ms) == -1 ||
	    e.timeout_ms == 0)) {
		ctl_reply_error(c, "ban: expected \"ban ADDR [for DURATION]\" "
		    "with a duration such as 90s or 1h");
		return;
	}
	if (fw_batch_elem(e.family == AF_INET ? FWD_BAN4 : FWD_BAN6, &e, add,
	    fw_nl_seq(fw->nl, 3), &b, err, sizeof(err)) == -1 ||
	    fw_nl_send(fw->nl, &b, err, sizeof(err)) == -1) {
		if (!add && strstr(err, "No such file") != NULL)
			ctl_reply_error(c, "unban: %s is not banned", argv[1]);
		else
			ctl_reply_error(c, "%s %s: %s", argv[0], argv[1], err);
	} else {
		fwd_note_genid(fw);
		log_info("%s %s%s%s", add ? "banned" : "unbanned", argv[1],
		    argc == 4 ? " for " : "", argc == 4 ? argv[3] : "");
		ctl_reply_ok(c);
	}
	if (b.buf.data != NULL)
		fw_batch_free(&b);
}

static void
cmd_ban(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ban_change(c, argc, argv, arg, true);
}

static void
cmd_unban(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ban_change(c, argc, argv, arg, false);
}

static void
list_one(const char *set, const struct fw_elem *e, uint64_t expires_ms,
    void *arg)
{
	char	 a[INET6_ADDRSTRLEN];

	inet_ntop(e->family, e->addr, a, sizeof(a));
	if (e->timeout_ms != 0)
		ctl_printf(arg, "%s expires %llus\n", a,
		    (unsigned long long)((expires_ms + 999) / 1000));
	else
		ctl_printf(arg, "%s\n", a);
}

static void
cmd_list(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct fwd	*fw = service_arg(arg);
	char		 err[256];

	ctl_reply_ok(c);
	if (fw_nl_elems(fw->nl, FWD_BAN4, list_one, c, err, sizeof(err)) == -1 ||
	    fw_nl_elems(fw->nl, FWD_BAN6, list_one, c, err, sizeof(err)) == -1)
		ctl_reply_error(c, "list: %s", err);
}

static const struct ctl_command fwd_commands[] = {
	{ "show", 0, 1, "show [--nft]", cmd_show },
	{ "ban", 1, 3, "ban ADDR [for DURATION]", cmd_ban },
	{ "unban", 1, 1, "unban ADDR", cmd_unban },
	{ "list", 0, 0, "list", cmd_list },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct service_ops fwd_ops = {
	.name = "fwd",
	.version = FWD_VERSION,
	.default_conf = "/etc/stackd/fwd.conf",
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

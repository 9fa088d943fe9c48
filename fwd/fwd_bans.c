/* fwd_bans — fwctl ban, unban and list; the ban list fwd keeps and its
 * state file.
 *
 * The kernel's ban sets hold the bans and their timeouts. fwd keeps its own
 * list beside them (with wall-clock expiry) for two things the kernel
 * cannot do: survive a restart (the state file) and survive the table
 * being deleted by another tool (drift repair puts them back). An apply
 * takes the kernel's elements, which include those added by hand with nft,
 * plus fwd's own that are missing.
 *
 * The state file is a journal: each ban and unban appends one line (from
 * a short timer, after the reply), so a ban costs the same with 100,000
 * held as with none. It is compacted (written whole, atomically) at start
 * and when it holds more than twice the live bans plus COMPACT_SLACK
 * lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "log.h"
#include "statefile.h"
#include "fwd.h"

static uint64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
bad_line(unsigned line, const char *why, void *arg)
{
	log_warnx("state-file %s:%u: %s; line ignored", (const char *)arg,
	    line, why);
}

#define COMPACT_SLACK	1024	/* lines a small list may grow by */

static void	 arm_save(struct fwd *);

/* The whole list, atomically: the journal starts again from it. */
static int
compact(struct fwd *fw, const char *path, char *err, size_t errlen)
{
	struct buf	 b;
	int		 rc = -1;

	fw_bans_prune(&fw->bans, wall_ms());
	buf_init(&b, FWD_STATE_FILE_MAX);
	if (fw_state_format(&fw->bans, &b) == -1)
		snprintf(err, errlen, "state-file %s: more than %d bytes",
		    path, FWD_STATE_FILE_MAX);
	else
		rc = state_file_write(path, buf_head(&b), buf_used(&b), err,
		    errlen);
	buf_free(&b);
	free(fw->journal_path);
	fw->journal_path = NULL;
	if (rc == 0 && (fw->journal_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "state-file %s: out of memory", path);
		rc = -1;
	}
	fw->journal_lines = fw->bans.n;
	return rc;
}

void
fwd_bans_load(struct fwd *fw, const struct fw_policy *p)
{
	struct buf	 b;
	char		 err[512];

	buf_init(&fw->journal, FWD_STATE_FILE_MAX);
	if (p->state_file == NULL)
		return;
	if (state_file_read(p->state_file, FWD_STATE_FILE_MAX, &b, err,
	    sizeof(err)) == -1) {
		if (errno == ENOENT)
			log_info("state-file %s: not there yet", p->state_file);
		else
			log_warnx("state-file %s; starting without saved bans",
			    err);
		return;
	}
	fw_state_parse(buf_head(&b), buf_used(&b), wall_ms(), &fw->bans,
	    bad_line, p->state_file);
	buf_free(&b);
	log_info("state-file %s: %zu bans restored", p->state_file,
	    fw->bans.n);
	/* Compacted by the first save (journal_path NULL), which runs just
	 * after start-up: not before the first apply. */
	arm_save(fw);
}

/* The lines queued since the last save, appended; or the whole list when
 * the journal is long, was written elsewhere, or an append failed. */
static int
save(struct fwd *fw, char *err, size_t errlen)
{
	const struct fw_policy *p = service_conf(fw->svc);
	size_t		 queued = fw->journal_queued;

	fw->journal_queued = 0;
	if (p == NULL || p->state_file == NULL) {
		buf_reset(&fw->journal);
		return 0;
	}
	if (fw->journal_path == NULL ||
	    strcmp(fw->journal_path, p->state_file) != 0 ||
	    fw->journal_lines + queued > 2 * fw->bans.n + COMPACT_SLACK) {
		buf_reset(&fw->journal);
		return compact(fw, p->state_file, err, errlen);
	}
	if (buf_used(&fw->journal) == 0)
		return 0;
	fw->journal_lines += queued;
	if (state_file_append(p->state_file, buf_head(&fw->journal),
	    buf_used(&fw->journal), err, errlen) == -1) {
		free(fw->journal_path);	/* the next save writes it whole */
		fw->journal_path = NULL;
		buf_reset(&fw->journal);
		return -1;
	}
	buf_reset(&fw->journal);
	return 0;
}

/* Written from a short timer: the ctl reply is flushed and its
 * connection closed by the next pass of the loop, before the timer (an
 * fdatasync costs a millisecond or more; a ban must not), and a burst
 * of bans makes one write. The kernel already holds the ban, so only a
 * host crash in that window loses it from the file. */
#define SAVE_DELAY_MS	5

static void
save_deferred(struct ev_loop *loop, void *arg)
{
	struct fwd	*fw = arg;
	char		 err[512];

	if (save(fw, err, sizeof(err)) == -1) {
		fw->save_failures++;
		log_warnx("%s", err);
	}
}

static void
arm_save(struct fwd *fw)
{
	if (!fw->save_init) {
		ev_timer_init(&fw->save, save_deferred, fw);
		fw->save_init = true;
	}
	if (!ev_timer_pending(&fw->save))
		ev_timer_start(service_loop(fw->svc), &fw->save, SAVE_DELAY_MS);
}

static void
schedule_save(struct fwd *fw, const struct fw_ban *b, bool add)
{
	if (fw_state_line(b, add, &fw->journal) == 0)
		fw->journal_queued++;
	else {
		/* Queue full: the next save writes the list whole. */
		free(fw->journal_path);
		fw->journal_path = NULL;
	}
	arm_save(fw);
}

/* At stop: a write still queued is done now. */
void
fwd_bans_stop(struct fwd *fw)
{
	if (fw->save_init && ev_timer_pending(&fw->save)) {
		if (service_loop(fw->svc) != NULL)
			ev_timer_stop(service_loop(fw->svc), &fw->save);
		save_deferred(NULL, fw);
	}
	buf_free(&fw->journal);
	free(fw->journal_path);
	fw->journal_path = NULL;
}

/* The elements an apply puts in the ban sets. */

struct elems {
	struct fw_elem	*e;
	size_t		 n;
};

static int
push(struct elems *l, const struct fw_elem *e)
{
	struct fw_elem	*p;

	if (l->n >= 2 * FWD_BANS_MAX ||
	    (p = reallocarray(l->e, l->n + 1, sizeof(*p))) == NULL)
		return -1;
	l->e = p;
	p[l->n++] = *e;
	return 0;
}

static void
keep_ban(const char *set, const struct fw_elem *e, uint64_t expires_ms,
    void *arg)
{
	struct fw_elem	 k = *e;

	if (e->timeout_ms != 0)		/* what is left of it */
		k.timeout_ms = expires_ms > 0 ? expires_ms : 1;
	push(arg, &k);
}

static int
elem_cmp(const void *a, const void *b)
{
	const struct fw_elem *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int
fwd_bans_elems(struct fwd *fw, struct fw_elem **out, size_t *n,
    size_t *missing, char *err, size_t errlen)
{
	struct elems	 l = { NULL, 0 };
	struct fw_elem	 e;
	uint64_t	 now = wall_ms();
	size_t		 i, nk;
	int		 rc;

	/* Unless another process may have touched the ban sets (fw->
	 * elems_unknown: at start, after drift or lost events), they hold
	 * exactly fwd's list: no dump of 100,000 elements on each reload. */
	if (!fw->elems_unknown)
		rc = 0;
	else if ((rc = fw_nl_table_exists(fw->nl, err, errlen)) == -1)
		return -1;
	if (rc == 1 &&
	    (fw_nl_elems(fw->nl, FWD_BAN4, keep_ban, &l, err, errlen) == -1 ||
	    fw_nl_elems(fw->nl, FWD_BAN6, keep_ban, &l, err, errlen) == -1)) {
		/* A table made by an older policy may lack them. */
		log_warnx("bans in the kernel not kept: %s", err);
		l.n = 0;
	}
	/* fwd's own that the kernel lost (table deleted, restart). */
	if (l.n > 1)
		qsort(l.e, l.n, sizeof(*l.e), elem_cmp);
	nk = l.n;
	fw_bans_prune(&fw->bans, now);
	for (i = 0; i < fw->bans.n; i++) {
		e = fw->bans.v[i].e;
		if (nk > 0 && bsearch(&e, l.e, nk, sizeof(e), elem_cmp) != NULL)
			continue;
		e.timeout_ms = fw->bans.v[i].until_ms == 0 ? 0 :
		    fw->bans.v[i].until_ms - now;
		push(&l, &e);
	}
	*out = l.e;
	*n = l.n;
	if (missing != NULL)
		*missing = l.n - nk;
	return 0;
}

/* ban ADDR [for DURATION], unban ADDR: one small batch each, then the
 * list and the state file. */
static void
ban_change(struct ctl_conn *c, int argc, char **argv, struct fwd *fw,
    bool add)
{
	struct fw_batch	 b;
	struct fw_ban	 ban;
	char		 err[512];
	uint64_t	 t0;
	bool		 sent, kept = true;

	if (fw_parse_addr(argv[1], &ban.e) == -1) {
		ctl_reply_error(c, "%s: expected an IPv4 or IPv6 address, got "
		    "\"%s\"", argv[0], argv[1]);
		return;
	}
	if (add && argc > 2 && (argc != 4 || strcmp(argv[2], "for") != 0 ||
	    conf_parse_duration(argv[3], &ban.e.timeout_ms) == -1 ||
	    ban.e.timeout_ms == 0)) {
		ctl_reply_error(c, "ban: expected \"ban ADDR [for DURATION]\" "
		    "with a duration such as 90s or 1h");
		return;
	}
	ban.until_ms = ban.e.timeout_ms == 0 ? 0 : wall_ms() +
	    ban.e.timeout_ms;
	memset(&b, 0, sizeof(b));
	t0 = ev_clock_us();
	sent = fw_batch_elem(ban.e.family == AF_INET ? FWD_BAN4 : FWD_BAN6,
	    &ban.e, add, fw_nl_seq(fw->nl, 3), &b, err, sizeof(err)) == 0 &&
	    fw_nl_send(fw->nl, &b, err, sizeof(err)) == 0;
	fw->ban_us_last = ev_clock_us() - t0;
	fw_batch_free(&b);
	if (!sent) {
		if (add || strstr(err, "No such file") == NULL) {
			ctl_reply_error(c, "%s %s: %s", argv[0], argv[1], err);
			return;
		}
		/* Expired in the kernel: forget it here too. */
		ctl_reply_error(c, "unban: %s is not banned", argv[1]);
		ctl_end(c);
		if (fw_bans_del(&fw->bans, &ban.e))
			schedule_save(fw, &ban, false);
		return;
	}
	fwd_note_genid(fw);
	if (!add)
		fw_bans_del(&fw->bans, &ban.e);
	else if (fw_bans_put(&fw->bans, &ban) == -1 &&
	    (fw_bans_prune(&fw->bans, wall_ms()) == 0 ||
	    fw_bans_put(&fw->bans, &ban) == -1)) {
		log_warnx("ban %s: more than %d bans, not kept across "
		    "restarts", argv[1], FWD_BANS_MAX);
		kept = false;
		fw->elems_unknown = true;	/* the kernel has more */
	}
	log_info("%s %s%s%s", add ? "banned" : "unbanned", argv[1],
	    argc == 4 ? " for " : "", argc == 4 ? argv[3] : "");
	/* Deferred work runs in queue order: the reply's flush first. */
	ctl_reply_ok(c);
	ctl_end(c);
	schedule_save(fw, &ban, add && kept);
}

void
fwd_bans_status(struct fwd *fw, struct ctl_conn *c)
{
	ctl_printf(c, "bans kept %zu\nlast ban/unban kernel time %llu us\n"
	    "state-file write failures %llu\n", fw->bans.n,
	    (unsigned long long)fw->ban_us_last,
	    (unsigned long long)fw->save_failures);
}

void
fwd_cmd_ban(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ban_change(c, argc, argv, service_arg(arg), true);
}

void
fwd_cmd_unban(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ban_change(c, argc, argv, service_arg(arg), false);
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

void
fwd_cmd_list(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct fwd	*fw = service_arg(arg);
	char		 err[256];

	ctl_reply_ok(c);
	if (fw_nl_elems(fw->nl, FWD_BAN4, list_one, c, err, sizeof(err)) == -1 ||
	    fw_nl_elems(fw->nl, FWD_BAN6, list_one, c, err, sizeof(err)) == -1)
		ctl_reply_error(c, "list: %s", err);
}

/* ag_access — web access log lines into the web tier's figures (see
 * ag_access.h).
 *
 * The lines read, as the daemons write them:
 *
 *   webd combined (webd_conn.c, conn_account):
 *	ADDR - - [TIME] "REQUEST" "REFERER" "USER-AGENT" STATUS BYTES SECS
 *   nginx combined (no request time; a $request_time appended after the
 *   user agent is taken):
 *	ADDR - USER [TIME] "REQUEST" STATUS BYTES "REFERER" "USER-AGENT"
 *   lbd (lbd_client.c, cl_log):
 *	TIME PEER FRONTEND SERVER STATUS BYTES SECS TLS CIPHER "REQUEST"
 *   webd json:
 *	{"time":..,"client":..,"request":..,"referer":..,"user_agent":..,
 *	 "status":N,"bytes":N,"duration":SECS}
 *   (nginx json logs naming their fields status, body_bytes_sent and
 *   request_time are read too, numbers or strings alike.)
 *
 * A line is one of these or a parse error: a status outside 100..599, a
 * byte count that is not a number ("-" is 0), an unterminated quote. A
 * request time that is not a non-negative decimal is left out of the
 * histogram without making the line an error (nginx's extra fields). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "ag_access.h"

#define ACC_MAX_LOGS	256	/* distinct log names */
#define ACC_MAX_TOKENS	32	/* fields looked at in a combined line */
#define ACC_JSON_DEPTH	16	/* nesting skipped inside a JSON value */

/* One line's figures. */
struct acc_rec {
	unsigned	 status;
	uint64_t	 bytes;
	double		 secs;
	bool		 has_secs;
};

struct acc_log {
	struct acc_log		*next;
	char			*name;
	struct metric_series	*code[5];	/* 1xx .. 5xx */
	struct metric_series	*bytes, *dur, *rps, *errors;
	uint64_t		 since_tick;
};

struct ag_access {
	struct metric	*m_req, *m_bytes, *m_dur, *m_rps, *m_err;
	struct acc_log	*logs;
	size_t		 nlogs;
	uint64_t	 last_tick;	/* ms; 0: no tick yet */
};

/* ---- numbers ---- */

static int
parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t	 i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_status(const char *p, size_t n, unsigned *out)
{
	uint64_t v;

	if (n != 3 || parse_u64(p, n, &v) == -1 || v < 100 || v > 599)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "-" is no body: 0 bytes. */
static int
parse_bytes(const char *p, size_t n, uint64_t *out)
{
	if (n == 1 && p[0] == '-') {
		*out = 0;
		return 0;
	}
	return parse_u64(p, n, out);
}

/* DIGITS[.DIGITS], seconds. */
static int
parse_secs(const char *p, size_t n, double *out)
{
	double	 v = 0, scale = 1;
	size_t	 i = 0, digits = 0;

	for (; i < n && p[i] >= '0' && p[i] <= '9' && digits < 12; i++,
	    digits++)
		v = v * 10 + (p[i] - '0');
	if (digits == 0)
		return -1;
	if (i < n && p[i] == '.')
		for (i++; i < n && p[i] >= '0' && p[i] <= '9' && digits < 24;
		    i++, digits++)
			v += (p[i] - '0') * (scale /= 10);
	if (i != n)
		return -1;
	*out = v;
	return 0;
}

/* ---- combined and lbd lines ---- */

enum tok_kind { T_BARE, T_QUOTED, T_BRACKET };

struct tok {
	enum tok_kind	 kind;
	const char	*p;	/* inside the quotes or brackets */
	size_t		 n;
};

/* Split into fields: "quoted" (backslash escapes), [bracketed], bare
 * words. Number of fields (at most max), or -1 on an unterminated one. */
static int
tokenize(const char *s, size_t len, struct tok *t, int max)
{
	size_t	 i = 0, start;
	int	 n = 0;
	char	 close;

	while (n < max) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (s[i] == '"' || s[i] == '[') {
			close = s[i] == '"' ? '"' : ']';
			t[n].kind = s[i] == '"' ? T_QUOTED : T_BRACKET;
			start = ++i;
			while (i < len && s[i] != close) {
				if (s[i] == '\\' && close == '"' && i + 1 < len)
					i++;
				i++;
			}
			if (i == len)
				return -1;
			t[n].p = s + start;
			t[n].n = i - start;
			i++;
		} else {
			t[n].kind = T_BARE;
			start = i;
			while (i < len && s[i] != ' ' && s[i] != '\t')
				i++;
			t[n].p = s + start;
			t[n].n = i - start;
		}
		n++;
	}
	return n;
}

/* Where the figures are: for NCSA lines, counted among the bare fields
 * after the request; for the others, among all fields. -1: absent. */
struct layout {
	const char	*name;
	bool		 ncsa;		/* ADDR IDENT USER [TIME] "REQUEST" */
	int		 ntok;		/* exact field count, 0 any */
	int		 status, bytes, secs;
};

static const struct layout layouts[] = {
	/* webd: "REF" "UA" STATUS BYTES SECS; nginx: STATUS BYTES "REF"
	 * "UA" [SECS] */
	{ "ncsa",	true,	0,	0, 1, 2 },
	/* lbd: TIME PEER FRONTEND SERVER STATUS BYTES SECS TLS CIPHER
	 * "REQUEST" */
	{ "lbd",	false,	10,	4, 5, 6 },
};

static const struct layout *
pick_layout(const struct tok *t, int n, int *first)
{
	int	 i, req = -1;

	for (i = 0; i < n; i++)
		if (t[i].kind == T_BRACKET)
			break;
	if (i < n) {
		for (i++; i < n && req == -1; i++)
			if (t[i].kind == T_QUOTED)
				req = i;
		if (req == -1)
			return NULL;
		*first = req + 1;
		return &layouts[0];
	}
	if (n == layouts[1].ntok && t[n - 1].kind == T_QUOTED &&
	    t[0].n > 0 && t[0].p[0] >= '0' && t[0].p[0] <= '9') {
		*first = 0;
		return &layouts[1];
	}
	return NULL;
}

static int
parse_combined(const char *s, size_t len, struct acc_rec *r)
{
	struct tok t[ACC_MAX_TOKENS];
	const struct tok *f[ACC_MAX_TOKENS];
	const struct layout *l;
	int	 n, i, nf = 0, first;

	if ((n = tokenize(s, len, t, ACC_MAX_TOKENS)) <= 0 ||
	    (l = pick_layout(t, n, &first)) == NULL)
		return -1;
	for (i = first; i < n; i++)
		if (!l->ncsa || t[i].kind == T_BARE)
			f[nf++] = &t[i];
	if (l->status >= nf || l->bytes >= nf ||
	    f[l->status]->kind != T_BARE || f[l->bytes]->kind != T_BARE ||
	    parse_status(f[l->status]->p, f[l->status]->n, &r->status) == -1 ||
	    parse_bytes(f[l->bytes]->p, f[l->bytes]->n, &r->bytes) == -1)
		return -1;
	r->has_secs = l->secs < nf && f[l->secs]->kind == T_BARE &&
	    parse_secs(f[l->secs]->p, f[l->secs]->n, &r->secs) == 0;
	return 0;
}

/* ---- JSON lines ---- */

enum jfield { J_STATUS, J_BYTES, J_SECS };

static const struct {
	const char	*key;
	enum jfield	 field;
} json_keys[] = {
	{ "status",		J_STATUS },
	{ "bytes",		J_BYTES },
	{ "body_bytes_sent",	J_BYTES },
	{ "duration",		J_SECS },
	{ "request_time",	J_SECS },
};

struct jscan {
	const char	*s;
	size_t		 len, i;
};

static void
j_ws(struct jscan *j)
{
	while (j->i < j->len && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\r' || j->s[j->i] == '\n'))
		j->i++;
}

/* A string at j->i: its raw inside (escapes left as they are). */
static int
j_string(struct jscan *j, const char **p, size_t *n)
{
	size_t	 start;

	if (j->i >= j->len || j->s[j->i] != '"')
		return -1;
	start = ++j->i;
	while (j->i < j->len && j->s[j->i] != '"') {
		if (j->s[j->i] == '\\')
			j->i++;
		j->i++;
	}
	if (j->i >= j->len)
		return -1;
	*p = j->s + start;
	*n = j->i - start;
	j->i++;
	return 0;
}

/* Any value: a string's inside or a scalar's text in *p and *n, objects and
 * arrays skipped (*n 0). */
static int
j_value(struct jscan *j, const char **p, size_t *n)
{
	const char *dummy;
	size_t	 start, dn;
	int	 depth = 0;

	j_ws(j);
	if (j->i >= j->len)
		return -1;
	if (j->s[j->i] == '"')
		return j_string(j, p, n);
	*p = j->s + j->i;
	*n = 0;
	if (j->s[j->i] == '{' || j->s[j->i] == '[') {
		do {
			if (j->i >= j->len)
				return -1;
			if (j->s[j->i] == '"') {
				if (j_string(j, &dummy, &dn) == -1)
					return -1;
				continue;
			}
			if (j->s[j->i] == '{' || j->s[j->i] == '[') {
				if (++depth > ACC_JSON_DEPTH)
					return -1;
			} else if (j->s[j->i] == '}' || j->s[j->i] == ']')
				depth--;
			j->i++;
		} while (depth > 0);
		return 0;
	}
	start = j->i;
	while (j->i < j->len && strchr(",}] \t\r\n", j->s[j->i]) == NULL)
		j->i++;
	*n = j->i - start;
	return *n > 0 ? 0 : -1;
}

static int
parse_json(const char *s, size_t len, struct acc_rec *r)
{
	struct jscan j = { s, len, 0 };
	const char *k, *v;
	size_t	 kn, vn, i;
	unsigned seen = 0;

	j_ws(&j);
	if (j.i >= len || s[j.i++] != '{')
		return -1;
	for (;;) {
		j_ws(&j);
		if (j.i < len && s[j.i] == '}' && seen == 0)
			break;		/* {} */
		if (j_string(&j, &k, &kn) == -1)
			return -1;
		j_ws(&j);
		if (j.i >= len || s[j.i++] != ':' || j_value(&j, &v, &vn) == -1)
			return -1;
		for (i = 0; i < sizeof(json_keys) / sizeof(json_keys[0]); i++)
			if (strlen(json_keys[i].key) == kn &&
			    memcmp(json_keys[i].key, k, kn) == 0)
				break;
		if (i < sizeof(json_keys) / sizeof(json_keys[0])) {
			switch (json_keys[i].field) {
			case J_STATUS:
				if (parse_status(v, vn, &r->status) == -1)
					return -1;
				break;
			case J_BYTES:
				if (parse_bytes(v, vn, &r->bytes) == -1)
					return -1;
				break;
			case J_SECS:
				r->has_secs = parse_secs(v, vn, &r->secs) == 0;
				break;
			}
			seen |= 1u << json_keys[i].field;
		} else
			seen |= 1u << 8;
		j_ws(&j);
		if (j.i < len && s[j.i] == ',') {
			j.i++;
			continue;
		}
		if (j.i < len && s[j.i] == '}')
			break;
		return -1;
	}
	/* A status is the least an access line has. */
	return (seen & (1u << J_STATUS)) ? 0 : -1;
}

/* ---- counting ---- */

static struct acc_log *
get_log(struct ag_access *a, const char *name)
{
	static const char *const classes[5] = {
		"1xx", "2xx", "3xx", "4xx", "5xx"
	};
	const char *const lv[] = { name, NULL };
	struct acc_log *l;
	int	 i;

	for (l = a->logs; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	if (a->nlogs >= ACC_MAX_LOGS || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->name = strdup(name)) == NULL) {
		free(l);
		return NULL;
	}
	for (i = 0; i < 5; i++)
		l->code[i] = metric_with(a->m_req, (const char *const[]){
		    name, classes[i], NULL });
	l->bytes = metric_with(a->m_bytes, lv);
	l->dur = metric_with(a->m_dur, lv);
	l->rps = metric_with(a->m_rps, lv);
	l->errors = metric_with(a->m_err, lv);
	l->next = a->logs;
	a->logs = l;
	a->nlogs++;
	return l;
}

int
ag_access_line(struct ag_access *a, const char *log, enum ag_log_format fmt,
    const char *line, size_t len)
{
	struct acc_log *l;
	struct acc_rec r = { 0 };
	size_t	 i = 0;
	int	 rv;

	if ((l = get_log(a, log)) == NULL)
		return -1;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	/* raw: whichever the line looks like. */
	if (fmt == AG_FMT_RAW)
		fmt = i < len && line[i] == '{' ? AG_FMT_JSON : AG_FMT_COMBINED;
	rv = fmt == AG_FMT_JSON ? parse_json(line, len, &r) :
	    parse_combined(line, len, &r);
	if (rv == -1) {
		counter_inc(l->errors);
		return -1;
	}
	counter_inc(l->code[r.status / 100 - 1]);
	counter_add_u64(l->bytes, r.bytes);
	if (r.has_secs)
		histogram_observe(l->dur, r.secs);
	l->since_tick++;
	return 0;
}

void
ag_access_tick(struct ag_access *a, uint64_t now_ms)
{
	struct acc_log *l;
	uint64_t elapsed;

	if (a->last_tick != 0 && now_ms <= a->last_tick)
		return;		/* no time passed: keep counting */
	elapsed = a->last_tick != 0 ? now_ms - a->last_tick : 0;
	for (l = a->logs; l != NULL; l = l->next) {
		if (elapsed > 0)
			gauge_set(l->rps, (double)l->since_tick * 1000.0 /
			    (double)elapsed);
		l->since_tick = 0;
	}
	a->last_tick = now_ms;
}

struct ag_access *
ag_access_new(struct metrics *m)
{
	static const char *const l_log[] = { "log", NULL };
	static const char *const l_code[] = { "log", "code", NULL };
	struct ag_access *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->m_req = metrics_counter(m, "web_requests_total",
	    "Requests in the access logs, by status class.", l_code)) == NULL ||
	    (a->m_bytes = metrics_counter(m, "web_response_bytes_total",
	    "Response body bytes in the access logs.", l_log)) == NULL ||
	    (a->m_dur = metrics_histogram(m, "web_request_duration_seconds",
	    "Request times logged in the access logs.", l_log,
	    metrics_default_latency_bounds, METRICS_LATENCY_NBOUNDS)) == NULL ||
	    (a->m_rps = metrics_gauge(m, "web_requests_per_second",
	    "Requests logged per second over the last interval.",
	    l_log)) == NULL ||
	    (a->m_err = metrics_counter(m, "web_parse_errors_total",
	    "Access log lines that could not be read.", l_log)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
ag_access_free(struct ag_access *a)
{
	struct acc_log *l, *next;

	if (a == NULL)
		return;
	for (l = a->logs; l != NULL; l = next) {
		next = l->next;
		free(l->name);
		free(l);
	}
	free(a);
}

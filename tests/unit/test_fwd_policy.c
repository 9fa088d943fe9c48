/* Unit tests for fwd/fwd_policy and fwd/fwd_compile: good policies parse
 * into the expected groups, services, sets and allow lines; each kind of
 * bad policy is refused with its file:line; the compiled rule list and its
 * nft text hold the defaults and one rule per port and source; the ban
 * state file (fwd/fwd_state) parses, drops expired bans and round-trips;
 * the SSH guard (fwd/fwd_guard) reads /proc/net/tcp and judges a ruleset. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "fwd.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct fw_policy *
load(const char *text, char *errors, size_t errlen)
{
	struct conf_doc	*doc;
	struct conf_ctx	 ctx;
	struct fw_policy *p = NULL;
	char		 err[512];

	errors[0] = '\0';
	if (conf_parse_string("fw.conf", text, strlen(text), &doc, err,
	    sizeof(err)) == -1) {
		snprintf(errors, errlen, "%s", err);
		return NULL;
	}
	conf_ctx_init(&ctx, 0, NULL);
	p = fw_policy_load(conf_doc_root(doc), &ctx);
	snprintf(errors, errlen, "%s", conf_errors(&ctx));
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return p;
}

static const char good[] =
	"control \"/tmp/fwd.sock\"\n"
	"group admin { address 10.0.0.0/8 2001:db8::/32\n address 192.0.2.7 }\n"
	"group lb { address 10.1.0.1 }\n"
	"service ssh { tcp 22 }\n"
	"service web { tcp 80 443 8000-8080\n udp 443 }\n"
	"set blocked ipv4 timeout 1h\n"
	"set friends6 ipv6\n"
	"allow web\n"
	"allow ssh from admin rate 10/second per-source log\n"
	"allow web from @blocked\n"
	"allow dns from lb\n"		/* service defined after use */
	"service dns { udp 53 }\n"
	"log-drops \"fw drop: \"\n";

START_TEST(test_policy_good)
{
	struct fw_policy *p;
	char		 errors[1024];

	p = load(good, errors, sizeof(errors));
	ck_assert_msg(p != NULL, "errors: %s", errors);
	ck_assert_uint_eq(p->ngroups, 2);
	ck_assert_uint_eq(p->groups[0].n, 3);
	ck_assert_int_eq(p->groups[0].cidrs[1].family, AF_INET6);
	ck_assert_uint_eq(p->groups[0].cidrs[2].prefix, 32);
	ck_assert_uint_eq(p->nservices, 3);
	ck_assert_uint_eq(p->services[1].n, 4);
	ck_assert_uint_eq(p->services[1].ports[2].lo, 8000);
	ck_assert_uint_eq(p->services[1].ports[2].hi, 8080);
	ck_assert_uint_eq(p->services[1].ports[3].proto, IPPROTO_UDP);
	ck_assert_uint_eq(p->nsets, 2);
	ck_assert(p->sets[0].timeout);
	ck_assert_uint_eq(p->sets[0].timeout_ms, 3600000);
	ck_assert_int_eq(p->sets[1].family, AF_INET6);
	ck_assert_uint_eq(p->nallows, 4);
	ck_assert_int_eq(p->allows[0].from, FW_FROM_ANY);
	ck_assert_int_eq(p->allows[1].from, FW_FROM_GROUP);
	ck_assert_uint_eq(p->allows[1].rate, 10);
	ck_assert_uint_eq(p->allows[1].rate_unit, 1);
	ck_assert(p->allows[1].log);
	ck_assert_int_eq(p->allows[1].line, 11);
	ck_assert_int_eq(p->allows[2].from, FW_FROM_SET);
	ck_assert_uint_eq(p->allows[3].service, 2);
	ck_assert_str_eq(p->log_drops, "fw drop: ");
	ck_assert_str_eq(p->svc.control, "/tmp/fwd.sock");
	fw_policy_free(p);
}
END_TEST

static const struct bad_case {
	const char	*text;
	const char	*error;		/* substring of the errors */
} bad[] = {
	{ "group g { address 10.0.0.1/8 }\n", "fw.conf:1: address:" },
	{ "group g { address banana }\n", "fw.conf:1: address:" },
	{ "group g { }\n", "fw.conf:1: group g: expected at least one address" },
	{ "group any { address 10.0.0.1 }\n", "\"any\" is built in" },
	{ "group g { address ::1 }\ngroup g { address ::2 }\n",
	  "fw.conf:2: group g: defined twice" },
	{ "group bad.name { address ::1 }\n", "group: expected a name" },
	{ "service s { tcp 0 }\n", "fw.conf:1: tcp: expected a port" },
	{ "service s { tcp 70000 }\n", "expected a port 1-65535" },
	{ "service s { udp 90-80 }\n", "udp: expected a port" },
	{ "service s { sctp 9 }\n", "fw.conf:1:" },
	{ "set s ipv5\n", "fw.conf:1:" },
	{ "set ban_v4 ipv4\n", "reserved" },
	{ "set s ipv4 forever\n", "expected \"timeout\"" },
	{ "service s { tcp 1 }\nallow s from nowhere\n",
	  "fw.conf:2: allow: no group named \"nowhere\"" },
	{ "allow nothing\n", "fw.conf:1: allow: no service named \"nothing\"" },
	{ "service s { tcp 1 }\nallow s from @nope\n", "no set named \"nope\"" },
	{ "service s { tcp 1 }\nallow s from\n", "after \"from\"" },
	{ "service s { tcp 1 }\nallow s rate 10 per-source\n", "expected \"rate" },
	{ "service s { tcp 1 }\nallow s rate 10/fortnight per-source\n",
	  "expected \"rate" },
	{ "service s { tcp 1 }\nallow s log twice\n", "unexpected \"twice\"" },
	{ "firewall on\n", "fw.conf:1:" },
	{ "log-drops a\nlog-drops b\n", "fw.conf:2:" },
};

START_TEST(test_policy_bad)
{
	const struct bad_case *c = &bad[_i];
	struct fw_policy *p;
	char		 errors[1024];

	p = load(c->text, errors, sizeof(errors));
	ck_assert_msg(p == NULL, "accepted: %s", c->text);
	ck_assert_msg(strstr(errors, c->error) != NULL,
	    "case %d: want \"%s\" in \"%s\"", _i, c->error, errors);
}
END_TEST

START_TEST(test_policy_all_errors)
{
	char	 errors[1024];

	ck_assert_ptr_null(load("group g { address x }\nallow a\nallow b\n",
	    errors, sizeof(errors)));
	ck_assert_ptr_nonnull(strstr(errors, "fw.conf:1:"));
	ck_assert_ptr_nonnull(strstr(errors, "fw.conf:2:"));
	ck_assert_ptr_nonnull(strstr(errors, "fw.conf:3:"));
}
END_TEST

static size_t
count_rules(const struct fw_ruleset *rs, const char *counter)
{
	size_t	 i, n = 0;

	for (i = 0; i < rs->nrules; i++)
		if (strcmp(rs->counters[rs->rules[i].counter], counter) == 0)
			n++;
	return n;
}

START_TEST(test_compile)
{
	struct fw_policy *p;
	struct fw_ruleset rs;
	struct buf	 out;
	char		 errors[1024], err[256];
	const char	*t;

	p = load(good, errors, sizeof(errors));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fw_compile(p, &rs, err, sizeof(err)), 0);
	/* Defaults first, in order; the drop counter last. */
	ck_assert_int_eq(rs.rules[0].kind, KR_CT_ESTABLISHED);
	ck_assert_int_eq(rs.rules[1].kind, KR_CT_INVALID);
	ck_assert(!rs.rules[1].accept);
	ck_assert_int_eq(rs.rules[2].kind, KR_LOOPBACK);
	ck_assert_str_eq(rs.counters[rs.rules[rs.nrules - 1].counter], "dropped");
	ck_assert(!rs.rules[rs.nrules - 1].accept);
	ck_assert_uint_eq(count_rules(&rs, "banned"), 2);
	ck_assert_uint_eq(count_rules(&rs, "icmp_essentials"), 13);
	/* 4 port specs from any; 1 port x 3 addresses; 4 ports from @set. */
	ck_assert_uint_eq(count_rules(&rs, "web_from_any"), 4);
	ck_assert_uint_eq(count_rules(&rs, "ssh_from_admin"), 3);
	ck_assert_uint_eq(count_rules(&rs, "web_from_set_blocked"), 4);
	ck_assert_uint_eq(count_rules(&rs, "dns_from_lb"), 1);

	buf_init(&out, 0);
	ck_assert_int_eq(fw_ruleset_nft(&rs, &out), 0);
	t = buf_cstr(&out);
	ck_assert_ptr_nonnull(strstr(t, "table inet stackd {\n"));
	ck_assert_ptr_nonnull(strstr(t, "policy drop;"));
	ck_assert_ptr_nonnull(strstr(t, "tcp dport 8000-8080 counter name "
	    "\"web_from_any\" accept"));
	ck_assert_ptr_nonnull(strstr(t, "ip6 saddr 2001:db8::/32 tcp dport 22 "
	    "add @rl_"));
	ck_assert_ptr_nonnull(strstr(t, "limit rate 10/second } counter name "
	    "\"ssh_from_admin\" log prefix \"fw drop: \" accept"));
	ck_assert_ptr_nonnull(strstr(t, "ip saddr @blocked udp dport 443 "));
	ck_assert_ptr_nonnull(strstr(t, "icmpv6 type nd-neighbor-solicit "));
	ck_assert_ptr_nonnull(strstr(t, "counter name \"dropped\" log prefix "
	    "\"fw drop: \" drop"));
	ck_assert_ptr_nonnull(strstr(t, "set blocked {\n\t\ttype ipv4_addr\n"
	    "\t\tflags timeout\n"));
	buf_free(&out);
	fw_ruleset_free(&rs);
	fw_policy_free(p);
}
END_TEST

/* The same rule twice gets distinct counters (the line is appended). */
START_TEST(test_compile_duplicate_names)
{
	struct fw_policy *p;
	struct fw_ruleset rs;
	char		 errors[1024], err[256];

	p = load("service s-1 { tcp 1 }\nallow s-1\nallow s-1\n", errors,
	    sizeof(errors));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fw_compile(p, &rs, err, sizeof(err)), 0);
	ck_assert_uint_eq(count_rules(&rs, "s_1_from_any"), 1);
	ck_assert_uint_eq(count_rules(&rs, "s_1_from_any_3"), 1);
	fw_ruleset_free(&rs);
	fw_policy_free(p);
}
END_TEST

static void
count_bad(unsigned line, const char *why, void *arg)
{
	((unsigned *)arg)[line < 16 ? line : 0]++;
}

/* The ban state file: good lines kept, expired ones dropped, bad ones
 * reported by line; format then parse gives the same list back. */
START_TEST(test_state_file)
{
	static const char text[] =
	    "# fwd bans\n"
	    "ban 192.0.2.7\n"
	    "ban 2001:db8::1 until 5000\n"
	    "ban 192.0.2.8 until 500\n"		/* expired at 1000 */
	    "ban 300.1.1.1\n"			/* 5: bad address */
	    "ban 192.0.2.9 until soon\n"		/* 6: bad time */
	    "unbar 192.0.2.10\n"			/* 7: bad word */
	    "  \n"
	    "ban 192.0.2.7 until 9000\n"		/* replaces line 2 */
	    "ban 192.0.2.11\n"
	    "unban 192.0.2.11\n"			/* the journal's unban */
	    "ban 192.0.2.12\n"
	    "ban 192.0.2.12 until 999\n"		/* the last line wins */
	    "unban 192.0.2.13 until 5\n"		/* 14: bad unban */
	    "unban 2001:db8::1\n"
	    "ban 2001:db8::1 until 5000";		/* banned again, no LF */
	struct fw_bans	 l = { .v = NULL }, again = { .v = NULL };
	struct fw_elem	 e;
	struct buf	 b;
	struct fw_ban	 ban;
	unsigned	 badl[16] = { 0 };
	ssize_t		 i;

	ck_assert_uint_eq(fw_state_parse(text, strlen(text), 1000, &l,
	    count_bad, badl), 4);
	ck_assert_uint_eq(badl[5] + badl[6] + badl[7] + badl[14], 4);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(fw_parse_addr("192.0.2.7", &e), 0);
	ck_assert_int_ge(i = fw_bans_find(&l, &e), 0);
	ck_assert_uint_eq(l.v[i].until_ms, 9000);
	ck_assert_int_eq(fw_parse_addr("192.0.2.8", &e), 0);
	ck_assert_int_eq(fw_bans_find(&l, &e), -1);
	ck_assert_int_eq(fw_parse_addr("192.0.2.11", &e), 0);
	ck_assert_int_eq(fw_bans_find(&l, &e), -1);
	ck_assert_int_eq(fw_parse_addr("192.0.2.12", &e), 0);
	ck_assert_int_eq(fw_bans_find(&l, &e), -1);
	ck_assert_int_eq(fw_parse_addr("192.0.2.8", &e), 0);

	buf_init(&b, 4096);
	ck_assert_int_eq(fw_state_format(&l, &b), 0);
	ck_assert_uint_eq(fw_state_parse(buf_head(&b), buf_used(&b), 1000,
	    &again, NULL, NULL), 0);
	ck_assert_uint_eq(again.n, 2);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "ban 2001:db8::1 until 5000\n"));
	buf_free(&b);

	fw_bans_prune(&l, 6000);		/* 2001:db8::1 expires */
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(fw_bans_del(&l, &e), false);
	ck_assert_int_eq(fw_parse_addr("192.0.2.7", &e), 0);
	ck_assert_int_eq(fw_bans_del(&l, &e), true);
	ck_assert_uint_eq(l.n, 0);
	fw_bans_free(&l);
	fw_bans_free(&again);

	/* Journal lines as fwd appends them. */
	buf_init(&b, 4096);
	memset(&ban, 0, sizeof(ban));
	ck_assert_int_eq(fw_parse_addr("2001:db8::2", &ban.e), 0);
	ck_assert_int_eq(fw_state_line(&ban, false, &b), 0);
	ban.until_ms = 7000;
	ck_assert_int_eq(fw_state_line(&ban, true, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "unban 2001:db8::2\n"
	    "ban 2001:db8::2 until 7000\n");
	buf_free(&b);
}
END_TEST

/* The index: 30,000 bans put, half deleted, each found or not as it must;
 * prune drops the expired ones and keeps the index right. */
START_TEST(test_bans_index)
{
	struct fw_bans	 l = { .v = NULL };
	struct fw_ban	 b;
	uint32_t	 i, n = 30000;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		b.e.family = i % 3 == 0 ? AF_INET6 : AF_INET;
		memcpy(b.e.addr, &i, sizeof(i));
		b.until_ms = i % 5 == 0 ? 100 : 0;
		ck_assert_int_eq(fw_bans_put(&l, &b), 0);
	}
	ck_assert_int_eq(fw_bans_put(&l, &b), 0);	/* replaces */
	ck_assert_uint_eq(l.n, n);
	for (i = 0; i < n; i += 2) {
		b.e.family = i % 3 == 0 ? AF_INET6 : AF_INET;
		memcpy(b.e.addr, &i, sizeof(i));
		ck_assert_int_eq(fw_bans_del(&l, &b.e), true);
		ck_assert_int_eq(fw_bans_del(&l, &b.e), false);
	}
	ck_assert_uint_eq(fw_bans_prune(&l, 200), n / 10);
	for (i = 0; i < n; i++) {
		b.e.family = i % 3 == 0 ? AF_INET6 : AF_INET;
		memcpy(b.e.addr, &i, sizeof(i));
		if (i % 2 == 0 || i % 5 == 0)
			ck_assert_int_eq(fw_bans_find(&l, &b.e), -1);
		else
			ck_assert_int_ge(fw_bans_find(&l, &b.e), 0);
		b.e.family = i % 3 == 0 ? AF_INET : AF_INET6;
		ck_assert_int_eq(fw_bans_find(&l, &b.e), -1);
	}
	ck_assert_uint_eq(l.n, n / 2 - n / 10);
	fw_bans_free(&l);
}
END_TEST

struct peers {
	int	 family[4];
	uint8_t	 addr[4][16];
	uint16_t port[4];
	int	 n;
};

static void
peer(int family, const uint8_t *addr, uint16_t port, void *arg)
{
	struct peers	*p = arg;

	if (p->n < 4) {
		p->family[p->n] = family;
		p->port[p->n] = port;
		memcpy(p->addr[p->n++], addr, family == AF_INET ? 4 : 16);
	}
}

static bool
no_set(const char *set, int family, const uint8_t *addr, void *arg)
{
	return false;
}

/* /proc/net/tcp{,6} text: established connections to port 22 only, the
 * IPv4-mapped peer of an IPv6 socket as IPv4; the guard's verdict. */
START_TEST(test_guard)
{
	static const char tcp[] =
	    "  sl  local_address rem_address   st tx_queue\n"
	    "   0: 00000000:0016 00000000:0000 0A 00000000:00000000\n"
	    "   1: 0102000A:0016 0A0200C0:D431 01 00000000:00000000\n"
	    "   2: 0102000A:0050 0B0200C0:D432 01 00000000:00000000\n"
	    "   3: 0102000A:0016 0C0200C0:D433 06 00000000:00000000\n";
	static const char tcp6[] =
	    "  sl  local_address                         remote_address"
	    "                        st\n"
	    "   0: 0000000000000000FFFF00000102000A:0016 "
	    "0000000000000000FFFF00000D0200C0:D434 01\n";
	struct peers	 p = { .n = 0 };
	struct fw_policy *pol;
	struct fw_ruleset rs;
	char		 errors[1024], err[256];
	uint8_t		 other[4] = { 198, 51, 100, 1 };
	struct fw_port	 ports[8];

	fw_proc_tcp_parse(tcp, AF_INET, 22, 22, peer, &p);
	fw_proc_tcp_parse(tcp6, AF_INET6, 22, 22, peer, &p);
	ck_assert_int_eq(p.n, 2);
	ck_assert_int_eq(p.family[0], AF_INET);
	ck_assert_mem_eq(p.addr[0], ((uint8_t[]){ 192, 0, 2, 10 }), 4);
	ck_assert_int_eq(p.family[1], AF_INET);
	ck_assert_mem_eq(p.addr[1], ((uint8_t[]){ 192, 0, 2, 13 }), 4);

	pol = load("group admin { address 192.0.2.0/28 }\n"
	    "service ssh { tcp 22 }\nservice web { tcp 80 }\n"
	    "allow web\nallow ssh from admin\n", errors, sizeof(errors));
	ck_assert_ptr_nonnull(pol);
	ck_assert_int_eq(fw_compile(pol, &rs, err, sizeof(err)), 0);
	ck_assert(fw_ruleset_admits(&rs, AF_INET, p.addr[0], 22, no_set, NULL));
	ck_assert(!fw_ruleset_admits(&rs, AF_INET, other, 22, no_set, NULL));
	ck_assert(fw_ruleset_admits(&rs, AF_INET, other, 80, no_set, NULL));
	other[0] = 127;		/* over lo */
	ck_assert(fw_ruleset_admits(&rs, AF_INET, other, 22, no_set, NULL));
	fw_ruleset_free(&rs);

	/* The SSH ports: the service named ssh's tcp ports, each once. */
	ck_assert_uint_eq(fw_ssh_ports(pol, ports, 0, 8), 1);
	ck_assert_uint_eq(ports[0].lo, 22);
	ck_assert_uint_eq(fw_ssh_ports(pol, ports, 1, 8), 1);
	fw_policy_free(pol);
	pol = load("service ssh {\ntcp 2222 2300-2301\nudp 60000\n}\n"
	    "allow ssh\n", errors, sizeof(errors));
	ck_assert_ptr_nonnull(pol);
	ck_assert_uint_eq(fw_ssh_ports(pol, ports, 1, 8), 3);
	ck_assert_uint_eq(ports[1].lo, 2222);
	ck_assert_uint_eq(ports[2].lo, 2300);
	ck_assert_uint_eq(ports[2].hi, 2301);
	fw_policy_free(pol);
	pol = load("service web { tcp 80 }\nallow web\n", errors,
	    sizeof(errors));
	ck_assert_uint_eq(fw_ssh_ports(pol, ports, 0, 8), 0);
	fw_policy_free(pol);

	/* A range of local ports, and the port each peer came to. */
	p.n = 0;
	fw_proc_tcp_parse(tcp, AF_INET, 20, 80, peer, &p);
	ck_assert_int_eq(p.n, 2);
	ck_assert_uint_eq(p.port[1], 80);
}
END_TEST

Suite *
fwd_policy_suite(void)
{
	Suite	*s = suite_create("fwd_policy");
	TCase	*tc = tcase_create("policy");

	tcase_add_test(tc, test_policy_good);
	tcase_add_loop_test(tc, test_policy_bad, 0, NELEM(bad));
	tcase_add_test(tc, test_policy_all_errors);
	tcase_add_test(tc, test_compile);
	tcase_add_test(tc, test_compile_duplicate_names);
	tcase_add_test(tc, test_state_file);
	tcase_add_test(tc, test_bans_index);
	tcase_add_test(tc, test_guard);
	suite_add_tcase(s, tc);
	return s;
}

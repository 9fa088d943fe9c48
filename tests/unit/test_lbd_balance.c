/* Unit tests for lbd/lbd_balance: the exact smooth-WRR sequence and window
 * counts, usability and exclude for every algorithm, leastconn ratios and
 * ties, stability and minimal movement of source and ring hashing, p2c's
 * preference for fast servers, the latency EWMA and rise/fall health. */
#include <stdio.h>
#include <string.h>

#include "lbd_balance.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXT		8
#define NCLIENTS	1000

struct pool {
	struct lb_target	 t[MAXT];
	struct lb_target	*p[MAXT];
	struct lb_balancer	 b;
	size_t			 n;
};

/* n READY, up, uncapped servers named srv0.. with the given weights. */
static void
pool_init(struct pool *pl, enum lb_balance kind, const unsigned *w, size_t n)
{
	char	 name[16];
	size_t	 i;

	ck_assert_uint_le(n, MAXT);
	memset(pl, 0, sizeof(*pl));
	pl->n = n;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "srv%zu", i);
		pl->t[i].weight = w != NULL ? w[i] : 1;
		pl->t[i].admin = ADMIN_READY;
		pl->t[i].up = true;
		pl->t[i].id_hash = lb_hash32(name, strlen(name));
		pl->p[i] = &pl->t[i];
	}
	ck_assert_int_eq(lb_balancer_init(&pl->b, kind, pl->p, n, 42), 0);
}

/* Key number i: a distinct IPv4 client and a distinct header value. */
struct key {
	struct lb_key	 k;
	unsigned char	 addr[4];
	char		 hdr[32];
};

static const struct lb_key *
key_make(struct key *k, unsigned i)
{
	int	 len;

	k->addr[0] = 10;
	k->addr[1] = (unsigned char)(i >> 16);
	k->addr[2] = (unsigned char)(i >> 8);
	k->addr[3] = (unsigned char)i;
	len = snprintf(k->hdr, sizeof(k->hdr), "session-%u", i);
	k->k.client_addr = k->addr;
	k->k.client_addr_len = sizeof(k->addr);
	k->k.header_value = k->hdr;
	k->k.header_len = (size_t)len;
	return &k->k;
}

static int
pick_i(struct pool *pl, unsigned i, int exclude)
{
	struct key k;

	return lb_pick(&pl->b, key_make(&k, i), exclude);
}

/* --- hash, latency, health --- */

START_TEST(fnv1a_vectors)
{
	ck_assert_uint_eq(lb_hash32("", 0), 0x811c9dc5u);
	ck_assert_uint_eq(lb_hash32("a", 1), 0xe40c292cu);
	ck_assert_uint_eq(lb_hash32("foobar", 6), 0xbf9cf968u);
}
END_TEST

START_TEST(latency_ewma)
{
	struct lb_target t = { .weight = 1 };
	int	 i;

	lb_latency_sample(&t, 1000);
	ck_assert_uint_eq(t.ewma_latency_us, 1000);	/* first sets */
	lb_latency_sample(&t, 2000);
	ck_assert_uint_eq(t.ewma_latency_us, 1200);	/* .8*1000 + .2*2000 */
	lb_latency_sample(&t, 1200);
	ck_assert_uint_eq(t.ewma_latency_us, 1200);
	lb_latency_sample(&t, 0);
	ck_assert_uint_eq(t.ewma_latency_us, 960);
	for (i = 0; i < 60; i++)
		lb_latency_sample(&t, 5000);
	ck_assert_uint_ge(t.ewma_latency_us, 4998);
	ck_assert_uint_le(t.ewma_latency_us, 5000);
	/* once measured it never reads as unmeasured again */
	for (i = 0; i < 200; i++)
		lb_latency_sample(&t, 0);
	ck_assert_uint_ge(t.ewma_latency_us, 1);
	/* no overflow at the top of the range */
	t.ewma_latency_us = UINT64_MAX;
	lb_latency_sample(&t, UINT64_MAX);
	ck_assert_uint_eq(t.ewma_latency_us, UINT64_MAX);
	lb_latency_sample(&t, 0);
	ck_assert_uint_eq(t.ewma_latency_us, UINT64_MAX / 5 * 4);
}
END_TEST

START_TEST(health_rise_fall)
{
	struct lb_health h = { .up = false, .rise = 3, .fall = 2 };

	ck_assert(!lb_health_result(&h, true));
	ck_assert(!lb_health_result(&h, true));
	ck_assert(!lb_health_result(&h, false));	/* breaks the run */
	ck_assert(!lb_health_result(&h, true));
	ck_assert(!lb_health_result(&h, true));
	ck_assert(!h.up);
	ck_assert(lb_health_result(&h, true));		/* third in a row */
	ck_assert(h.up);
	ck_assert(!lb_health_result(&h, true));		/* no second change */
	ck_assert(!lb_health_result(&h, false));
	ck_assert(!lb_health_result(&h, true));
	ck_assert(!lb_health_result(&h, false));
	ck_assert(h.up);
	ck_assert(lb_health_result(&h, false));
	ck_assert(!h.up);
	ck_assert(!lb_health_result(&h, false));
	ck_assert(!h.up);
}
END_TEST

START_TEST(health_alternating_never_flips)
{
	struct lb_health h;
	int	 start, i;

	for (start = 0; start < 2; start++) {
		h = (struct lb_health){ .up = start, .rise = 2, .fall = 2 };
		for (i = 0; i < 100; i++) {
			ck_assert(!lb_health_result(&h, i % 2 == 0));
			ck_assert_int_eq(h.up, start);
		}
	}
}
END_TEST

START_TEST(health_one_flips_at_once)
{
	struct lb_health h = { .up = true, .rise = 1, .fall = 1 };

	ck_assert(lb_health_result(&h, false));
	ck_assert(!h.up);
	ck_assert(lb_health_result(&h, true));
	ck_assert(h.up);
	ck_assert(!lb_health_result(&h, true));
}
END_TEST

/* --- roundrobin --- */

START_TEST(rr_nginx_sequence)
{
	static const unsigned w[] = { 5, 1, 1 };
	const char *want = "aabacaa" "aabacaa";
	struct pool pl;
	char	 got[15];
	int	 i;

	pool_init(&pl, BAL_ROUNDROBIN, w, NELEM(w));
	for (i = 0; i < 14; i++)
		got[i] = (char)('a' + lb_pick(&pl.b, NULL, -1));
	got[14] = '\0';
	ck_assert_str_eq(got, want);
	lb_balancer_free(&pl.b);
}
END_TEST

/* Any sum(weights) consecutive picks give each server exactly its weight,
 * and no server gets a longer burst than its share allows. */
START_TEST(rr_every_window_exact)
{
	static const unsigned w[] = { 3, 7, 1, 4, 2 };
	enum { S = 17 };
	struct pool pl;
	int	 seq[3 * S], cnt[NELEM(w)], run, maxrun[NELEM(w)];
	size_t	 i, off;

	pool_init(&pl, BAL_ROUNDROBIN, w, NELEM(w));
	memset(maxrun, 0, sizeof(maxrun));
	for (i = 0, run = 0; i < NELEM(seq); i++) {
		seq[i] = lb_pick(&pl.b, NULL, -1);
		ck_assert_int_ge(seq[i], 0);
		run = i > 0 && seq[i] == seq[i - 1] ? run + 1 : 1;
		if (run > maxrun[seq[i]])
			maxrun[seq[i]] = run;
	}
	for (off = 0; off + S <= NELEM(seq); off++) {
		memset(cnt, 0, sizeof(cnt));
		for (i = off; i < off + S; i++)
			cnt[seq[i]]++;
		for (i = 0; i < NELEM(w); i++)
			ck_assert_int_eq(cnt[i], (int)w[i]);
	}
	/* 7 of 17: never three in a row; the rest never twice in a row */
	ck_assert_int_le(maxrun[1], 2);
	ck_assert_int_eq(maxrun[0], 1);
	ck_assert_int_eq(maxrun[2], 1);
	ck_assert_int_eq(maxrun[3], 1);
	ck_assert_int_eq(maxrun[4], 1);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(rr_skips_unusable_keeps_ratio)
{
	static const unsigned w[] = { 2, 5, 1 };
	struct pool pl;
	int	 cnt[3] = { 0 }, i;

	pool_init(&pl, BAL_ROUNDROBIN, w, NELEM(w));
	pl.t[1].admin = ADMIN_DRAIN;
	for (i = 0; i < 30; i++)
		cnt[lb_pick(&pl.b, NULL, -1)]++;
	ck_assert_int_eq(cnt[0], 20);
	ck_assert_int_eq(cnt[1], 0);
	ck_assert_int_eq(cnt[2], 10);
	lb_balancer_free(&pl.b);
}
END_TEST

/* --- every algorithm: usability and exclude --- */

static const enum lb_balance kinds[] = { BAL_ROUNDROBIN, BAL_LEASTCONN,
	BAL_SOURCE, BAL_HASH_HEADER, BAL_P2C };

START_TEST(unusable_never_picked)
{
	struct pool pl;
	int	 seen[6] = { 0 }, r;
	unsigned i;

	pool_init(&pl, kinds[_i], NULL, 6);
	pl.t[0].admin = ADMIN_DRAIN;
	pl.t[1].admin = ADMIN_MAINT;
	pl.t[2].up = false;
	pl.t[3].active = pl.t[3].max_active = 2;	/* at its cap */
	pl.t[4].active = 1;				/* under its cap */
	pl.t[4].max_active = 2;
	pl.t[5].active = 1;				/* ties with 4 */
	for (i = 0; i < 1000; i++) {
		r = pick_i(&pl, i, -1);
		ck_assert_int_ge(r, 4);
		ck_assert_int_le(r, 5);
		seen[r]++;
	}
	ck_assert_int_gt(seen[4], 0);
	ck_assert_int_gt(seen[5], 0);

	pl.t[4].active = 2;				/* reaches its cap */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(pick_i(&pl, i, -1), 5);
	pl.t[5].up = false;
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(pick_i(&pl, i, -1), -1);
	ck_assert_int_eq(lb_pick(&pl.b, NULL, -1), -1);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(exclude_honoured)
{
	struct pool pl;
	int	 seen[4], r, e;
	unsigned i;

	pool_init(&pl, kinds[_i], NULL, 4);
	for (e = -1; e < 5; e++) {	/* -1 and an out-of-range index too */
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 400; i++) {
			r = pick_i(&pl, i, e);
			ck_assert_int_ge(r, 0);
			ck_assert_int_ne(r, e);
			seen[r]++;
		}
		for (r = 0; r < 4; r++)
			if (r != e)
				ck_assert_int_gt(seen[r], 0);
	}
	/* the one usable server excluded: nothing */
	pl.t[0].up = pl.t[1].up = false;
	pl.t[2].admin = ADMIN_MAINT;
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(pick_i(&pl, i, 3), -1);
		ck_assert_int_eq(pick_i(&pl, i, -1), 3);
	}
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(empty_pool)
{
	struct lb_balancer b;
	struct key k;

	ck_assert_int_eq(lb_balancer_init(&b, kinds[_i], NULL, 0, 1), 0);
	ck_assert_int_eq(lb_pick(&b, key_make(&k, 1), -1), -1);
	ck_assert_int_eq(lb_pick(&b, NULL, -1), -1);
	lb_balancer_free(&b);
}
END_TEST

/* --- leastconn --- */

START_TEST(lc_fewer_active_per_weight)
{
	static const struct {
		unsigned w[3], active[3];
		int	 want;
	} cases[] = {
		{ { 1, 1, 1 }, { 3, 1, 2 }, 1 },
		{ { 1, 3, 2 }, { 2, 3, 1 }, 2 },	/* 2, 1, 0.5 */
		{ { 1, 4, 1 }, { 1, 3, 1 }, 1 },	/* 1, 0.75, 1 */
		{ { 256, 1, 1 }, { 255, 1, 1 }, 0 },
		{ { 2, 1, 1 }, { 3, 0, 5 }, 1 },
	};
	struct pool pl;
	size_t	 c, i;

	for (c = 0; c < NELEM(cases); c++) {
		pool_init(&pl, BAL_LEASTCONN, cases[c].w, 3);
		for (i = 0; i < 3; i++)
			pl.t[i].active = cases[c].active[i];
		ck_assert_int_eq(lb_pick(&pl.b, NULL, -1), cases[c].want);
		lb_balancer_free(&pl.b);
	}
}
END_TEST

/* The caller counts each pick as in flight: actives track the weights. */
START_TEST(lc_follows_weights)
{
	static const unsigned w[] = { 1, 2, 3 };
	struct pool pl;
	unsigned k, j;
	int	 r;

	pool_init(&pl, BAL_LEASTCONN, w, NELEM(w));
	for (k = 1; k <= 50; k++) {
		for (j = 0; j < 6; j++) {
			r = lb_pick(&pl.b, NULL, -1);
			ck_assert_int_ge(r, 0);
			pl.t[r].active++;
		}
		ck_assert_uint_eq(pl.t[0].active, k);
		ck_assert_uint_eq(pl.t[1].active, 2 * k);
		ck_assert_uint_eq(pl.t[2].active, 3 * k);
	}
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(lc_ties_round_robin)
{
	struct pool pl;
	int	 cnt[4] = { 0 }, r, prev = -1, i;

	pool_init(&pl, BAL_LEASTCONN, NULL, 4);
	pl.t[3].active = 1;	/* never ties with the idle three */
	for (i = 0; i < 300; i++) {
		r = lb_pick(&pl.b, NULL, -1);
		ck_assert_int_ne(r, prev);
		cnt[r]++;
		prev = r;
	}
	ck_assert_int_eq(cnt[0], 100);
	ck_assert_int_eq(cnt[1], 100);
	ck_assert_int_eq(cnt[2], 100);
	ck_assert_int_eq(cnt[3], 0);
	lb_balancer_free(&pl.b);
}
END_TEST

/* --- source --- */

START_TEST(source_stable)
{
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
		[15] = 7 };
	struct lb_key k = { .client_addr = v6, .client_addr_len = 16 };
	struct pool pl, other;
	int	 first, i;
	unsigned c;

	pool_init(&pl, BAL_SOURCE, NULL, 5);
	first = lb_pick(&pl.b, &k, -1);
	ck_assert_int_ge(first, 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(lb_pick(&pl.b, &k, -1), first);
	/* no hidden state: another balancer over the same servers agrees */
	pool_init(&other, BAL_SOURCE, NULL, 5);
	other.b.rng = 12345;
	for (c = 0; c < NCLIENTS; c++)
		ck_assert_int_eq(pick_i(&pl, c, -1), pick_i(&other, c, -1));
	lb_balancer_free(&pl.b);
	lb_balancer_free(&other.b);
}
END_TEST

START_TEST(source_spread)
{
	struct pool pl;
	int	 cnt[4] = { 0 }, i;
	unsigned c;

	pool_init(&pl, BAL_SOURCE, NULL, 4);
	for (c = 0; c < NCLIENTS; c++)
		cnt[pick_i(&pl, c, -1)]++;
	for (i = 0; i < 4; i++) {
		ck_assert_int_ge(cnt[i], 190);
		ck_assert_int_le(cnt[i], 310);
	}
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(source_down_moves_only_its_share)
{
	struct pool pl;
	int	 before[NCLIENTS], r, moved = 0;
	unsigned c;

	pool_init(&pl, BAL_SOURCE, NULL, 4);
	for (c = 0; c < NCLIENTS; c++)
		before[c] = pick_i(&pl, c, -1);
	pl.t[2].up = false;
	for (c = 0; c < NCLIENTS; c++) {
		r = pick_i(&pl, c, -1);
		ck_assert_int_ne(r, 2);
		if (before[c] != 2)
			ck_assert_int_eq(r, before[c]);	/* others stay */
		else
			moved++;
	}
	ck_assert_int_ge(moved, 190);
	ck_assert_int_le(moved, 310);
	/* back up: everyone returns to where they were */
	pl.t[2].up = true;
	for (c = 0; c < NCLIENTS; c++)
		ck_assert_int_eq(pick_i(&pl, c, -1), before[c]);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(source_weighted)
{
	static const unsigned w[] = { 3, 1 };
	struct pool pl;
	int	 cnt[2] = { 0 };
	unsigned c;

	pool_init(&pl, BAL_SOURCE, w, NELEM(w));
	for (c = 0; c < 2 * NCLIENTS; c++)
		cnt[pick_i(&pl, c, -1)]++;
	ck_assert_int_ge(cnt[0], 1400);		/* 1500 expected */
	ck_assert_int_le(cnt[0], 1600);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(source_no_addr_round_robin)
{
	static const unsigned w[] = { 5, 1, 1 };
	struct lb_key k = { .header_value = "x", .header_len = 1 };
	struct pool pl;
	char	 got[8];
	int	 i;

	pool_init(&pl, BAL_SOURCE, w, NELEM(w));
	for (i = 0; i < 7; i++)
		got[i] = (char)('a' + lb_pick(&pl.b, i % 2 ? &k : NULL, -1));
	got[7] = '\0';
	ck_assert_str_eq(got, "aabacaa");
	lb_balancer_free(&pl.b);
}
END_TEST

/* --- hash-header ring --- */

START_TEST(ring_built_sorted)
{
	static const unsigned w[] = { 1, 3, 2 };
	struct pool pl;
	size_t	 cnt[3] = { 0 }, i;

	pool_init(&pl, BAL_HASH_HEADER, w, NELEM(w));
	ck_assert_uint_eq(pl.b.nring, 6 * LB_RING_POINTS);
	for (i = 0; i < pl.b.nring; i++) {
		if (i > 0)
			ck_assert_uint_le(pl.b.ring[i - 1].hash,
			    pl.b.ring[i].hash);
		ck_assert_uint_lt(pl.b.ring[i].target, 3);
		cnt[pl.b.ring[i].target]++;
	}
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(cnt[i], w[i] * LB_RING_POINTS);
	lb_balancer_free(&pl.b);
	ck_assert_ptr_null(pl.b.ring);
	/* other kinds keep no ring */
	pool_init(&pl, BAL_ROUNDROBIN, w, NELEM(w));
	ck_assert_uint_eq(pl.b.nring, 0);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(ring_same_key_same_server)
{
	struct pool pl, other;
	int	 cnt[4] = { 0 }, r, i;
	unsigned c;

	pool_init(&pl, BAL_HASH_HEADER, NULL, 4);
	pool_init(&other, BAL_HASH_HEADER, NULL, 4);
	for (c = 0; c < 4 * NCLIENTS; c++) {
		r = pick_i(&pl, c, -1);
		ck_assert_int_eq(pick_i(&pl, c, -1), r);
		ck_assert_int_eq(pick_i(&other, c, -1), r);
		cnt[r]++;
	}
	for (i = 0; i < 4; i++) {	/* 40 points each: roughly even */
		ck_assert_int_ge(cnt[i], 600);
		ck_assert_int_le(cnt[i], 1400);
	}
	lb_balancer_free(&pl.b);
	lb_balancer_free(&other.b);
}
END_TEST

START_TEST(ring_removal_moves_only_its_keys)
{
	enum { N = 4 * NCLIENTS };
	static int before[N];
	struct lb_target *three[3];
	struct lb_balancer b3;
	struct pool pl;
	struct key k;
	int	 r, moved = 0;
	unsigned c;

	pool_init(&pl, BAL_HASH_HEADER, NULL, 4);
	for (c = 0; c < N; c++)
		before[c] = pick_i(&pl, c, -1);

	/* down: its keys walk on to the next server, no one else's move */
	pl.t[1].up = false;
	for (c = 0; c < N; c++) {
		r = pick_i(&pl, c, -1);
		ck_assert_int_ne(r, 1);
		if (before[c] != 1)
			ck_assert_int_eq(r, before[c]);
		else
			moved++;
	}
	ck_assert_int_ge(moved, 600);
	ck_assert_int_le(moved, 1400);

	/* gone from the configuration (ring rebuilt without it): same */
	pl.t[1].up = true;
	three[0] = &pl.t[0];
	three[1] = &pl.t[2];
	three[2] = &pl.t[3];
	ck_assert_int_eq(lb_balancer_init(&b3, BAL_HASH_HEADER, three, 3, 1),
	    0);
	for (c = 0; c < N; c++) {
		r = lb_pick(&b3, key_make(&k, c), -1);
		ck_assert_int_ge(r, 0);
		if (before[c] != 1)
			ck_assert_ptr_eq(three[r], &pl.t[before[c]]);
	}
	lb_balancer_free(&b3);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(ring_missing_header_round_robin)
{
	static const unsigned w[] = { 5, 1, 1 };
	struct lb_key k = { .client_addr = "\x0a\0\0\1", .client_addr_len = 4 };
	struct pool pl;
	char	 got[8];
	int	 i;

	pool_init(&pl, BAL_HASH_HEADER, w, NELEM(w));
	for (i = 0; i < 7; i++)
		got[i] = (char)('a' + lb_pick(&pl.b, i % 2 ? &k : NULL, -1));
	got[7] = '\0';
	ck_assert_str_eq(got, "aabacaa");
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(ring_update_on_weight_change)
{
	enum { N = 4 * NCLIENTS };
	static int before[N];
	struct pool pl;
	int	 r, on0 = 0;
	unsigned c;

	pool_init(&pl, BAL_HASH_HEADER, NULL, 4);
	for (c = 0; c < N; c++)
		before[c] = pick_i(&pl, c, -1);
	pl.t[0].weight = 4;
	ck_assert_uint_eq(pl.b.nring, 4 * LB_RING_POINTS);	/* not yet */
	ck_assert_int_eq(lb_balancer_update(&pl.b), 0);
	ck_assert_uint_eq(pl.b.nring, 7 * LB_RING_POINTS);
	/* keys only move to the heavier server, which now holds ~4/7 */
	for (c = 0; c < N; c++) {
		r = pick_i(&pl, c, -1);
		if (r != before[c])
			ck_assert_int_eq(r, 0);
		on0 += r == 0;
	}
	ck_assert_int_ge(on0, N * 4 / 7 - 500);
	ck_assert_int_le(on0, N * 4 / 7 + 500);
	/* and back: the original mapping */
	pl.t[0].weight = 1;
	ck_assert_int_eq(lb_balancer_update(&pl.b), 0);
	for (c = 0; c < N; c++)
		ck_assert_int_eq(pick_i(&pl, c, -1), before[c]);
	lb_balancer_free(&pl.b);
}
END_TEST

/* --- p2c --- */

START_TEST(p2c_prefers_fast)
{
	struct pool pl;
	int	 cnt[3] = { 0 }, i;

	pool_init(&pl, BAL_P2C, NULL, 3);
	pl.t[0].ewma_latency_us = 10000;
	pl.t[1].ewma_latency_us = 1000;
	pl.t[2].ewma_latency_us = 10000;
	/* the fast one wins whenever drawn: 2/3 of pairs */
	for (i = 0; i < 1000; i++)
		cnt[lb_pick(&pl.b, NULL, -1)]++;
	ck_assert_int_ge(cnt[1], 600);
	ck_assert_int_le(cnt[1], 740);
	ck_assert_int_ge(cnt[0], 120);
	ck_assert_int_ge(cnt[2], 120);
	lb_balancer_free(&pl.b);
}
END_TEST

/* Two servers, each pick stays in flight: load pushes some to the slow
 * one once the fast one has ~10x its requests. */
START_TEST(p2c_load_feedback)
{
	struct pool pl;
	int	 cnt[2] = { 0 }, r, i;

	pool_init(&pl, BAL_P2C, NULL, 2);
	pl.t[0].ewma_latency_us = 1000;
	pl.t[1].ewma_latency_us = 10000;
	for (i = 0; i < 1000; i++) {
		r = lb_pick(&pl.b, NULL, -1);
		cnt[r]++;
		pl.t[r].active++;
	}
	ck_assert_int_ge(cnt[0], 850);
	ck_assert_int_ge(cnt[1], 50);
	lb_balancer_free(&pl.b);
}
END_TEST

/* The two candidates are distinct, so the worst server never wins. */
START_TEST(p2c_distinct_candidates)
{
	struct pool pl;
	int	 cnt[4] = { 0 }, i;

	pool_init(&pl, BAL_P2C, NULL, 4);
	for (i = 0; i < 4; i++)
		pl.t[i].ewma_latency_us = 100 * (unsigned)(i + 1);
	for (i = 0; i < 2000; i++)
		cnt[lb_pick(&pl.b, NULL, -1)]++;
	ck_assert_int_gt(cnt[0], cnt[1]);
	ck_assert_int_gt(cnt[1], cnt[2]);
	ck_assert_int_gt(cnt[2], 0);
	ck_assert_int_eq(cnt[3], 0);
	lb_balancer_free(&pl.b);
	/* unmeasured: active and weight decide; (4+1)/4 beats (1+1)/1 */
	pool_init(&pl, BAL_P2C, (const unsigned[]){ 4, 1 }, 2);
	pl.t[0].active = 4;
	pl.t[1].active = 1;
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(lb_pick(&pl.b, NULL, -1), 0);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(p2c_single_and_extremes)
{
	struct pool pl;
	int	 i;

	pool_init(&pl, BAL_P2C, NULL, 3);
	pl.t[0].up = false;
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(lb_pick(&pl.b, NULL, 1), 2);
	/* huge values compare exactly, without wrapping */
	pl.t[0].up = true;
	pl.t[2].up = false;
	pl.t[0].ewma_latency_us = UINT64_MAX;
	pl.t[0].active = UINT32_MAX - 1;
	pl.t[1].ewma_latency_us = UINT64_MAX - 2;
	pl.t[0].weight = pl.t[1].weight = LB_WEIGHT_MAX;
	pl.t[1].active = UINT32_MAX - 1;
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(lb_pick(&pl.b, NULL, -1), 1);
	lb_balancer_free(&pl.b);
}
END_TEST

START_TEST(p2c_seeded)
{
	struct lb_balancer a, b;
	struct pool pl;
	int	 same = 0, i, ra;

	pool_init(&pl, BAL_P2C, NULL, 8);
	ck_assert_int_eq(lb_balancer_init(&a, BAL_P2C, pl.p, 8, 7), 0);
	ck_assert_int_eq(lb_balancer_init(&b, BAL_P2C, pl.p, 8, 7), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(lb_pick(&a, NULL, -1), lb_pick(&b, NULL, -1));
	ck_assert_int_eq(lb_balancer_init(&b, BAL_P2C, pl.p, 8, 0), 0);
	for (i = 0; i < 100; i++) {
		ra = lb_pick(&a, NULL, -1);
		same += ra == lb_pick(&b, NULL, -1);
	}
	ck_assert_int_lt(same, 50);
	lb_balancer_free(&a);
	lb_balancer_free(&b);
	lb_balancer_free(&pl.b);
}
END_TEST

Suite *
suite_lbd_balance(void)
{
	Suite	*s = suite_create("lbd_balance");
	TCase	*tc;

	tc = tcase_create("basics");
	tcase_add_test(tc, fnv1a_vectors);
	tcase_add_test(tc, latency_ewma);
	tcase_add_test(tc, health_rise_fall);
	tcase_add_test(tc, health_alternating_never_flips);
	tcase_add_test(tc, health_one_flips_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundrobin");
	tcase_add_test(tc, rr_nginx_sequence);
	tcase_add_test(tc, rr_every_window_exact);
	tcase_add_test(tc, rr_skips_unusable_keeps_ratio);
	suite_add_tcase(s, tc);

	tc = tcase_create("every_kind");
	tcase_add_loop_test(tc, unusable_never_picked, 0, NELEM(kinds));
	tcase_add_loop_test(tc, exclude_honoured, 0, NELEM(kinds));
	tcase_add_loop_test(tc, empty_pool, 0, NELEM(kinds));
	suite_add_tcase(s, tc);

	tc = tcase_create("leastconn");
	tcase_add_test(tc, lc_fewer_active_per_weight);
	tcase_add_test(tc, lc_follows_weights);
	tcase_add_test(tc, lc_ties_round_robin);
	suite_add_tcase(s, tc);

	tc = tcase_create("source");
	tcase_add_test(tc, source_stable);
	tcase_add_test(tc, source_spread);
	tcase_add_test(tc, source_down_moves_only_its_share);
	tcase_add_test(tc, source_weighted);
	tcase_add_test(tc, source_no_addr_round_robin);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash_header");
	tcase_add_test(tc, ring_built_sorted);
	tcase_add_test(tc, ring_same_key_same_server);
	tcase_add_test(tc, ring_removal_moves_only_its_keys);
	tcase_add_test(tc, ring_missing_header_round_robin);
	tcase_add_test(tc, ring_update_on_weight_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("p2c");
	tcase_add_test(tc, p2c_prefers_fast);
	tcase_add_test(tc, p2c_load_feedback);
	tcase_add_test(tc, p2c_distinct_candidates);
	tcase_add_test(tc, p2c_single_and_extremes);
	tcase_add_test(tc, p2c_seeded);
	suite_add_tcase(s, tc);
	return s;
}

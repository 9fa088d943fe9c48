/* lbd balancing — see lbd_balance.h for the algorithms. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lbd_balance.h"

typedef int	 pick_fn(struct lb_balancer *, const struct lb_key *, int);

/* Weights outside 1..LB_WEIGHT_MAX are clamped, so a bad record can never
 * divide by zero or starve a server of ring points. */
static unsigned
wt(const struct lb_target *t)
{
	if (t->weight < 1)
		return 1;
	return t->weight > LB_WEIGHT_MAX ? LB_WEIGHT_MAX : t->weight;
}

static bool
usable(const struct lb_target *t)
{
	return t->up && t->admin == ADMIN_READY &&
	    (t->max_active == 0 || t->active < t->max_active);
}

static bool
candidate(const struct lb_balancer *b, size_t i, int exclude)
{
	return (int)i != exclude && usable(b->targets[i]);
}

uint32_t
lb_hash32(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;

	while (len-- > 0) {
		h ^= *s++;
		h *= 16777619u;
	}
	return h;
}

/* FNV-1a mixes its last bytes poorly (keys differing only there land in
 * arithmetic runs); murmur3's finaliser spreads them over all 32 bits. */
static uint32_t
mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t
key_hash(const void *p, size_t len)
{
	return mix32(lb_hash32(p, len));
}

/* Hash of two words, serialised little-endian so every host (and every lbd
 * in front of the same pool) agrees on rings and rendezvous scores. */
static uint32_t
hash_pair(uint32_t a, uint32_t b)
{
	unsigned char v[8];
	int	 i;

	for (i = 0; i < 4; i++) {
		v[i] = (unsigned char)(a >> (8 * i));
		v[4 + i] = (unsigned char)(b >> (8 * i));
	}
	return key_hash(v, sizeof(v));
}

/* --- roundrobin: nginx's smooth weighted round robin --- */

static int
pick_rr(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	struct lb_target *t;
	int64_t	 total = 0;
	int	 best = -1;
	size_t	 i;

	for (i = 0; i < b->ntargets; i++) {
		if (!candidate(b, i, exclude))
			continue;
		t = b->targets[i];
		t->rr_current += wt(t);
		total += wt(t);
		if (best < 0 || t->rr_current > b->targets[best]->rr_current)
			best = (int)i;
	}
	if (best >= 0)
		b->targets[best]->rr_current -= total;
	return best;
}

/* --- leastconn --- */

static int
pick_leastconn(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	const struct lb_target *t, *bt = NULL;
	size_t	 n = b->ntargets, i, j;
	int	 best = -1;

	/* Scanning from the tiebreak cursor and keeping the first of equals
	 * hands ties out in turn. */
	for (j = 0; j < n; j++) {
		i = (b->rr_tiebreak + j) % n;
		if (!candidate(b, i, exclude))
			continue;
		t = b->targets[i];
		if (bt == NULL || (uint64_t)t->active * wt(bt) <
		    (uint64_t)bt->active * wt(t)) {
			bt = t;
			best = (int)i;
		}
	}
	if (best >= 0)
		b->rr_tiebreak = ((size_t)best + 1) % n;
	return best;
}

/* --- source: weighted rendezvous (highest random weight) hashing --- */

static int
pick_source(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	double	 score, best_score = 0;
	uint32_t h;
	int	 best = -1;
	size_t	 i;

	if (k == NULL || k->client_addr == NULL || k->client_addr_len == 0)
		return pick_rr(b, k, exclude);
	h = key_hash(k->client_addr, k->client_addr_len);
	/* Each server scores -ln(u)/weight with u uniform in (0,1) from
	 * hash(client, server); the lowest wins. That is an exponential draw
	 * of rate weight, so a server wins in proportion to its weight, and a
	 * server leaving only moves the clients it was winning. */
	for (i = 0; i < b->ntargets; i++) {
		if (!candidate(b, i, exclude))
			continue;
		score = -log((hash_pair(h, b->targets[i]->id_hash) + 0.5) /
		    4294967296.0) / wt(b->targets[i]);
		if (best < 0 || score < best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	return best;
}

/* --- hash-header: consistent-hash ring --- */

static int
ring_cmp(const void *a, const void *b)
{
	const struct lb_ring_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->target < y->target ? -1 : x->target > y->target;
}

static int
pick_ring(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	const struct lb_ring_point *p;
	size_t	 lo, hi, mid, step, i;
	uint32_t h;

	if (k == NULL || k->header_value == NULL)
		return pick_rr(b, k, exclude);
	/* Without this an all-down pool would walk the whole ring. */
	for (i = 0; i < b->ntargets && !candidate(b, i, exclude); i++)
		;
	if (i == b->ntargets || b->nring == 0)
		return -1;

	h = key_hash(k->header_value, k->header_len);
	lo = 0;
	hi = b->nring;
	while (lo < hi) {	/* first point >= h; nring means wrap to 0 */
		mid = lo + (hi - lo) / 2;
		if (b->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (step = 0; step < b->nring; step++) {
		p = &b->ring[(lo + step) % b->nring];
		if (p->target < b->ntargets && candidate(b, p->target, exclude))
			return (int)p->target;
	}
	return -1;
}

/* --- p2c: power of two choices on latency x load --- */

static uint64_t
rng_next(struct lb_balancer *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return b->rng = x;
}

/* The index of the nth candidate (0-based); the caller counted them. */
static size_t
nth_candidate(const struct lb_balancer *b, int exclude, size_t nth)
{
	size_t	 i;

	for (i = 0; i < b->ntargets; i++)
		if (candidate(b, i, exclude) && nth-- == 0)
			break;
	return i;
}

/* Unmeasured (0) counts as 1us: the active count still tells servers
 * apart. Saturating so the largest value cannot wrap to 0. */
static uint64_t
lat1(const struct lb_target *t)
{
	return t->ewma_latency_us == UINT64_MAX ? UINT64_MAX :
	    t->ewma_latency_us + 1;
}

static int
pick_p2c(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	const struct lb_target *x, *y;
	unsigned __int128 sx, sy;
	size_t	 m = 0, i, a, c;

	for (i = 0; i < b->ntargets; i++)
		m += candidate(b, i, exclude);
	if (m == 0)
		return -1;
	if (m == 1)
		return (int)nth_candidate(b, exclude, 0);
	/* Two distinct draws: the second from the m-1 others. */
	a = rng_next(b) % m;
	c = rng_next(b) % (m - 1);
	if (c >= a)
		c++;
	a = nth_candidate(b, exclude, a);
	c = nth_candidate(b, exclude, c);
	x = b->targets[a];
	y = b->targets[c];
	/* (lat+1)(active+1)/weight compared by cross-multiplication: at most
	 * 2^64 * 2^32 * 2^8, which 128 bits hold exactly. */
	sx = (unsigned __int128)lat1(x) * ((uint64_t)x->active + 1) * wt(y);
	sy = (unsigned __int128)lat1(y) * ((uint64_t)y->active + 1) * wt(x);
	return (int)(sy < sx ? c : a);
}

static pick_fn *const pickers[] = {
	[BAL_ROUNDROBIN] = pick_rr,
	[BAL_LEASTCONN] = pick_leastconn,
	[BAL_SOURCE] = pick_source,
	[BAL_HASH_HEADER] = pick_ring,
	[BAL_P2C] = pick_p2c,
};

int
lb_pick(struct lb_balancer *b, const struct lb_key *k, int exclude)
{
	if ((size_t)b->kind >= sizeof(pickers) / sizeof(pickers[0]) ||
	    b->ntargets == 0)
		return -1;
	return pickers[b->kind](b, k, exclude);
}

/* --- set-up --- */

int
lb_balancer_update(struct lb_balancer *b)
{
	struct lb_ring_point *ring;
	size_t	 n = 0, i, j, pts;

	if (b->kind != BAL_HASH_HEADER) {
		free(b->ring);
		b->ring = NULL;
		b->nring = 0;
		return 0;
	}
	for (i = 0; i < b->ntargets; i++)
		n += (size_t)wt(b->targets[i]) * LB_RING_POINTS;
	if ((ring = calloc(n ? n : 1, sizeof(*ring))) == NULL)
		return -1;
	n = 0;
	/* Point j of a server depends only on its name and j: a weight change
	 * adds or drops that server's last points and moves nothing else. */
	for (i = 0; i < b->ntargets; i++) {
		pts = (size_t)wt(b->targets[i]) * LB_RING_POINTS;
		for (j = 0; j < pts; j++) {
			ring[n].hash = hash_pair(b->targets[i]->id_hash,
			    (uint32_t)j);
			ring[n++].target = (uint32_t)i;
		}
	}
	qsort(ring, n, sizeof(*ring), ring_cmp);
	free(b->ring);
	b->ring = ring;
	b->nring = n;
	return 0;
}

int
lb_balancer_init(struct lb_balancer *b, enum lb_balance kind,
    struct lb_target **targets, size_t n, uint64_t seed)
{
	size_t	 i;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->targets = targets;
	b->ntargets = n;
	for (i = 0; i < n; i++)
		targets[i]->rr_current = 0;
	/* splitmix64 of the seed: small seeds would otherwise give xorshift
	 * a run of small first outputs, and 0 would stick at 0. */
	seed += 0x9e3779b97f4a7c15ull;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ull;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebull;
	seed ^= seed >> 31;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	return lb_balancer_update(b);
}

void
lb_balancer_free(struct lb_balancer *b)
{
	free(b->ring);
	b->ring = NULL;
	b->nring = 0;
}

/* --- latency and health --- */

void
lb_latency_sample(struct lb_target *t, uint64_t us)
{
	unsigned __int128 v;

	if (t->ewma_latency_us == 0) {
		t->ewma_latency_us = us;
		return;
	}
	/* new = 0.8 old + 0.2 sample, rounded; 128 bits so 4*old can't wrap. */
	v = (unsigned __int128)t->ewma_latency_us * 4 + us + 2;
	t->ewma_latency_us = (uint64_t)(v / 5);
}

bool
lb_health_result(struct lb_health *h, bool ok)
{
	unsigned *run = ok ? &h->ok_run : &h->fail_run;
	unsigned need = ok ? h->rise : h->fall;

	if (ok)
		h->fail_run = 0;
	else
		h->ok_run = 0;
	if (*run < UINT_MAX)
		(*run)++;
	if (h->up != ok && *run >= (need ? need : 1)) {
		h->up = ok;
		return true;
	}
	return false;
}

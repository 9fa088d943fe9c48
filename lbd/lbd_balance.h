/* lbd balancing: which server of a pool takes the next request. Pure
 * logic over the pool's runtime server records, no I/O, so the unit suite
 * drives it directly (tests/unit/test_lbd_balance.c).
 *
 * Algorithms (lbd.conf(5) `balance`):
 *   roundrobin    smooth weighted round robin (as nginx): over any window
 *                 of sum(weights) picks each server gets exactly its weight,
 *                 spread out rather than in bursts.
 *   leastconn     fewest active requests relative to weight (active/weight,
 *                 compared by cross-multiplication); ties go round robin so
 *                 equal servers share the load.
 *   source        hash of the client address (IPv4/IPv6 bytes): the same
 *                 client lands on the same server while the set of usable
 *                 servers stays the same (weighted rendezvous hashing, so a
 *                 server leaving moves only its own clients). A request
 *                 without an address falls back to roundrobin.
 *   hash-header   consistent hashing (a ring with LB_RING_POINTS points per
 *                 unit of weight) on a request header's value: when a server
 *                 leaves, only the keys it held move. A request without the
 *                 header falls back to roundrobin.
 *   p2c           power of two choices on latency: two distinct usable
 *                 servers drawn at random, the one with the lower
 *                 ((ewma_latency_us + 1) * (active + 1)) / weight wins.
 *
 * A server is usable when up, admin READY and not at its connection cap
 * (active < max_active when max_active > 0). Servers in DRAIN or MAINT, or
 * down, are never picked. */
#ifndef LBD_BALANCE_H
#define LBD_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_RING_POINTS	40	/* ring points per unit of weight */
#define LB_WEIGHT_MAX	256

enum lb_balance { BAL_ROUNDROBIN, BAL_LEASTCONN, BAL_SOURCE, BAL_HASH_HEADER,
	BAL_P2C };
enum lb_admin { ADMIN_READY, ADMIN_DRAIN, ADMIN_MAINT };

/* What the balancer reads of a server (embedded in lbd's server record). */
struct lb_target {
	unsigned	 weight;	/* 1 .. LB_WEIGHT_MAX */
	enum lb_admin	 admin;
	bool		 up;		/* health checks say so */
	unsigned	 active;	/* requests in flight on it */
	unsigned	 max_active;	/* 0: no cap */
	uint64_t	 ewma_latency_us; /* 0 until measured */
	uint32_t	 id_hash;	/* hash of the server's name: ring points */
	/* balancer-private */
	int64_t		 rr_current;	/* smooth WRR state */
};

struct lb_ring_point {
	uint32_t	 hash;
	uint32_t	 target;	/* index into the target array */
};

struct lb_balancer {
	enum lb_balance	 kind;
	struct lb_target **targets;	/* the pool's servers, in config order */
	size_t		 ntargets;
	/* consistent-hash ring, rebuilt by lb_balancer_update() */
	struct lb_ring_point *ring;
	size_t		 nring;
	uint64_t	 rng;		/* xorshift state for p2c (seeded) */
	size_t		 rr_tiebreak;
};

/* What the request offers as a key; fields unused by the kind may be NULL. */
struct lb_key {
	const void	*client_addr;	/* 4 or 16 address bytes (source) */
	size_t		 client_addr_len;
	const char	*header_value;	/* hash-header; NULL = header absent */
	size_t		 header_len;
};

/* targets is borrowed and must outlive the balancer. seed feeds p2c.
 * 0, or -1 (ENOMEM) building the ring. */
int	 lb_balancer_init(struct lb_balancer *, enum lb_balance,
	    struct lb_target **targets, size_t n, uint64_t seed);
/* Rebuild what depends on weights or the server set (the ring); call after
 * a weight changes. 0 or -1 (ENOMEM: the old ring stays). */
int	 lb_balancer_update(struct lb_balancer *);
void	 lb_balancer_free(struct lb_balancer *);

/* Index of the chosen usable target, or -1 when none is usable. exclude
 * (an index, or -1) is skipped: a retry goes to another server. The
 * caller increments the chosen target's active count itself. */
int	 lb_pick(struct lb_balancer *, const struct lb_key *, int exclude);

/* Fold one latency sample into ewma_latency_us (alpha 0.2; the first
 * sample sets it). */
void	 lb_latency_sample(struct lb_target *, uint64_t us);

/* 32-bit FNV-1a, also for id_hash. */
uint32_t lb_hash32(const void *, size_t);

/* Health from check results: rise successes in a row bring a down server
 * up, fall failures in a row take an up one down. Returns true when
 * `up` changed. */
struct lb_health {
	bool		 up;
	unsigned	 rise, fall;	/* thresholds, >= 1 */
	unsigned	 ok_run, fail_run;
};
bool	 lb_health_result(struct lb_health *, bool ok);

#endif

/* dbr_fo.h — the failover engine's private header: dbr_failover.c runs
 * the jobs (failover, switchover) and decides what to do next,
 * dbr_repair.c has the repair jobs (rejoin, semi-sync set-up). See
 * dbr_failover.c for the whole story. */
#ifndef DBR_FO_H
#define DBR_FO_H

#include <stdbool.h>
#include <stdint.h>

#include "dbr.h"

#define FO_POLL_MS		100	/* relay log drain polling */
#define FO_REJOIN_BACKOFF_MS	5000	/* between rejoin attempts of a server */
#define FO_ERRANT_BACKOFF_MS	30000	/* after an errant check refused it */
#define FO_DONE_MAX		2048

enum fo_job { JOB_IDLE, JOB_FAILOVER, JOB_SWITCHOVER, JOB_REJOIN, JOB_SEMI };

enum fo_phase {
	PH_SURVEY,	/* failover: each candidate's positions */
	PH_DRAIN,	/* failover: the chosen one applies its relay log */
	PH_FENCE,	/* switchover: old primary read_only=1, its position */
	PH_CATCHUP,	/* switchover: the target applies up to it */
	PH_PROMOTE,	/* stop and forget replication, writable */
	PH_REPOINT,	/* each other server to the new primary */
	PH_ROLLBACK,	/* switchover failed: back to the old primary */
	PH_REJOIN_LOOK,	/* rejoin: fence, read its positions */
	PH_REJOIN,	/* rejoin: point it at the writer */
	PH_SEMI_LOOK,	/* semi-sync: what the server has */
	PH_SEMI_SET,	/* semi-sync: turn on what it lacks */
	PH_COUNT
};

struct fo_cand {
	char		 name[DBR_NAME_MAX];
	char		 io[DBR_GTID_MAX];
	char		 cur[DBR_GTID_MAX];
	bool		 ok;		/* its survey answered */
};

/* A server to point at the new primary: ex marks an ex-primary. */
struct fo_todo {
	char		 name[DBR_NAME_MAX];
	bool		 ex;
};

struct dbr_failover {
	struct dbr	*d;
	enum fo_job	 job;
	enum fo_phase	 phase;
	struct dbr_sql	*q;
	int		 sel;		/* the statement whose row counts */
	char		 state[160];	/* what the job does now, for status */
	char		 old[DBR_NAME_MAX];	/* primary being replaced */
	char		 target[DBR_NAME_MAX];	/* promoted, rejoined, ... */
	char		 lost[DBR_NAME_MAX];	/* writer lost, not replaced */
	uint64_t	 started;
	uint64_t	 deadline;	/* drain, catch-up */
	uint64_t	 wait_ms;	/* switchover's MASTER_GTID_WAIT bound */
	uint64_t	 next_failover;
	/* failover survey */
	struct fo_cand	 cand[DBR_MAX_SERVERS];
	int		 ncand, cand_i, best;
	/* repoint list */
	struct fo_todo	 todo[DBR_MAX_SERVERS];
	int		 ntodo, todo_i, repoint_failed;
	/* switchover */
	char		 fence_pos[DBR_GTID_MAX];
	bool		 promoting;	/* PH_PROMOTE began: rollback repoints */
	bool		 promote_semi;	/* semi-sync master on at promotion */
	int		 rollback_i;
	bool		 rollback_ok;
	char		 why[512];	/* why the switchover failed */
	struct ctl_conn	*cc;		/* switchover's requester */
	/* the last promotion, for the old primary's errant check */
	char		 promoted_from[DBR_NAME_MAX];
	char		 promote_pos[DBR_GTID_MAX];
	/* semi-sync job: the role it sets up */
	enum dbr_role	 semi_role;
	/* what was done, one line each, for the reply and the log */
	char		 done[FO_DONE_MAX];
	char		 last[512];	/* last failover or switchover */
	bool		 warned_many;
	struct ev_timer	 poll;
	struct ev_deferred again;	/* evaluate after a job ends */
	struct metric	*m_failovers;	/* {result} */
	struct metric	*m_switchovers;	/* {result} */
	struct metric	*m_writer;	/* {server} */
	struct metric	*m_writer_changes;
	/* failover-lock (dbr_lock.c) */
	int		 lock_held, lock_running;	/* at the last tally */
	bool		 lock_majority;	/* this one may fail over */
	bool		 lock_refused;	/* a GET_LOCK said 0 since the tally */
	uint64_t	 lock_retry_at;	/* no GET_LOCK before (ev_now) */
	struct metric	*m_lock;
};

struct fo_phase_ops {
	const char	*name;
	void		(*start)(struct dbr_failover *);
	void		(*done)(struct dbr_failover *, struct dbr_sql *);
};

extern const char *const fo_job_names[];

/* Helpers (dbr_failover.c). */
uint64_t	 fo_now(struct dbr_failover *);
void		 fo_set_state(struct dbr_failover *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* One line of what was done: logged, and kept for the ctl reply. */
void		 fo_did(struct dbr_failover *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Change the writer, saying why at warning level. */
void		 fo_writer_set(struct dbr *, struct dbr_server *,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void		 fo_touch(struct dbr_failover *, const char *name);
bool		 fo_replicates_from(const struct dbr_server *,
		    const struct dbr_server *);
/* A session on server name whose end runs the current phase's done;
 * NULL when the server is gone or memory is short. */
struct dbr_sql	*fo_sql(struct dbr_failover *, const char *name,
		    uint64_t timeout_ms);
void		 fo_run(struct dbr_failover *, struct dbr_sql *);
void		 fo_go(struct dbr_failover *, enum fo_phase);
void		 fo_job_begin(struct dbr_failover *, enum fo_job,
		    const char *target);
void		 fo_job_end(struct dbr_failover *, bool ok, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The statements that make q's server a replica of primary; ex: an
 * ex-primary, whose gtid_slave_pos is taken from its binlog first. */
void		 fo_add_repoint(struct dbr_failover *, struct dbr_sql *q,
		    const char *primary, bool ex);

/* failover-lock (dbr_lock.c): count the locks after a check; may this
 * dbrouter fail over, repair, switch over (always, without the lock)? */
void		 dbr_lock_tally(struct dbr_failover *);
bool		 dbr_lock_may_act(const struct dbr_failover *);
void		 dbr_lock_status(struct dbr *, struct ctl_conn *);

/* Repairs (dbr_repair.c). */
bool		 fo_needs_rejoin(struct dbr *, struct dbr_server *);
int		 fo_semi_needed(struct dbr *, struct dbr_server *);
void		 fo_rejoin_begin(struct dbr_failover *, struct dbr_server *);
void		 fo_semi_begin(struct dbr_failover *, struct dbr_server *,
		    enum dbr_role);
void		 fo_rejoin_look_start(struct dbr_failover *);
void		 fo_rejoin_look_done(struct dbr_failover *, struct dbr_sql *);
void		 fo_rejoin_start(struct dbr_failover *);
void		 fo_rejoin_done(struct dbr_failover *, struct dbr_sql *);
void		 fo_semi_look_start(struct dbr_failover *);
void		 fo_semi_look_done(struct dbr_failover *, struct dbr_sql *);
void		 fo_semi_set_start(struct dbr_failover *);
void		 fo_semi_set_done(struct dbr_failover *, struct dbr_sql *);

#endif

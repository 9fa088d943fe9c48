/* dbrouter's client sessions: shared between the connection side
 * (dbr_client.c: accept, login, reading commands, writing answers) and
 * the routing side (dbr_route.c: where each command goes, session state
 * replayed on every backend, prepared statements across backends,
 * relaying the answer). */
#ifndef DBR_CLIENT_H
#define DBR_CLIENT_H

#include "dbr.h"

enum cl_state {
	CL_LOGIN,		/* handshake sent, waiting for the response */
	CL_TLS_HANDSHAKE,	/* after an SSLRequest, before the response */
	CL_AUTH_SWITCH,		/* asked for mysql_native_password */
	CL_IDLE,		/* waiting for a command */
	CL_BUSY,		/* a command is being routed or answered */
	CL_INFILE,		/* relaying a LOAD DATA LOCAL file */
	CL_CLOSING,		/* flushing the last bytes, then closing */
};

/* The two backend connections a session may hold. */
enum { SLOT_PRIMARY, SLOT_REPLICA, NSLOTS };

struct cl_slot {
	struct dbr_bconn	*bc;
	uint64_t		 writer_gen;	/* primary slot: when taken */
	unsigned		 replayed;	/* replay statements it ran */
};

/* A prepared statement, under the id the client knows. */
struct cl_stmt {
	struct cl_stmt		*next;
	uint32_t		 id;
	char			*sql;
	size_t			 sql_len;
	enum qc_class		 cls;
	unsigned		 flags;
	enum ql_hint		 hint;
	uint16_t		 params;
	uint8_t			*types;		/* 2 * params, last bound */
	bool			 long_data;	/* pinned to the primary */
	bool			 prepared[NSLOTS];
	uint32_t		 backend_id[NSLOTS];
	int			 last_slot;	/* where it last ran, or -1 */
};

/* What the session is doing for the current command. */
enum cl_step {
	STEP_NONE,
	STEP_INIT_DB,		/* COM_INIT_DB to bring the slot's db along */
	STEP_REPLAY,		/* a replayed SET */
	STEP_PREPARE,		/* preparing the statement on this slot */
	STEP_GTID_WAIT,		/* read-your-writes: the replica catches up */
	STEP_COMMAND,		/* the client's command, relayed */
	STEP_LAST_GTID,		/* read-your-writes: what the write made */
	STEP_INFILE,		/* the file of LOAD DATA LOCAL */
};

struct dbr_client {
	struct dbr		*d;
	struct dbr_client	*next, *prev;	/* d->clients */
	struct dbr_client	*wnext;		/* a server's waiters */
	struct dbr_server	*waiting_on;
	int			 fd;
	struct tls_conn		*tls;		/* after an SSLRequest */
	bool			 tls_offered;	/* the listener says tls */
	bool			 tls_required;	/* ... required */
	/* TLS holds decrypted bytes the fd will not wake us for */
	struct ev_deferred	 kick;
	char			 peer[NET_ADDRSTRLEN];
	char			 host[NET_ADDRSTRLEN];	/* for messages */
	uint32_t		 conn_id;
	enum cl_state		 state;
	struct buf		 in, out;
	struct mysql_reader	 rd;
	uint8_t			 seq;		/* next to the client */
	struct ev_timer		 timer;		/* idle / waiting */
	bool			 paused;	/* backend input held back */

	/* login */
	uint8_t			 scramble[MYSQL_SCRAMBLE_LEN];
	struct dbr_ident	 id;
	uint32_t		 caps;

	/* session state */
	char			 db[DBR_DB_MAX];
	bool			 in_trans;
	bool			 autocommit_off;
	uint16_t		 status;	/* last from the primary */
	bool			 pinned;	/* to the primary, for good */
	char			 pin_why[48];
	char			**replay;	/* SET ... statements, in order */
	unsigned		 nreplay;
	struct cl_slot		 slot[NSLOTS];
	int			 last_slot;	/* of the last statement */
	struct cl_stmt		*stmts;
	uint32_t		 next_stmt_id;
	/* read-your-writes: the GTID of the session's last write, and the
	 * replica known to have applied it */
	char			 ryw_gtid[DBR_GTID_MAX];
	struct dbr_server	*ryw_reached;

	/* the current command */
	struct buf		 cmd;		/* its payload, kept for retry */
	uint8_t			 cmd_seq;	/* client's last frame seq */
	int			 target;	/* slot */
	struct cl_stmt		*cmd_stmt;
	struct qc_result	 qc;
	bool			 qc_valid;
	enum cl_step		 step;
	struct mysql_resp	 resp;
	bool			 relayed;	/* bytes of the answer sent */
	char			 step_value[DBR_GTID_MAX];	/* one-value steps */
	unsigned		 retries;
	uint64_t		 wait_until;	/* waiting for a writer */
};

/* dbr_client.c */
void	 cl_close(struct dbr_client *, const char *why);
/* An ERR to the client for the current command (seq follows it). */
void	 cl_error(struct dbr_client *, uint16_t code, const char *state,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 cl_ok(struct dbr_client *);
/* The command ended: back to reading the next one. */
void	 cl_command_done(struct dbr_client *);
void	 cl_flush(struct dbr_client *);
/* More room in the client's output: resume the backend. */
bool	 cl_out_full(const struct dbr_client *);

/* dbr_route.c */
void	 route_command(struct dbr_client *);
void	 route_resume(struct dbr_client *);	/* slot or writer came */
void	 route_client_input(struct dbr_client *);	/* CL_INFILE */
void	 route_session_reset(struct dbr_client *, bool keep_conns);
void	 route_release_all(struct dbr_client *);
void	 route_output_drained(struct dbr_client *);

#endif

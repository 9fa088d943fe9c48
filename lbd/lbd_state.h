/* lbd_state — the state file (lbd.conf(5) state-file): the admin state
 * and weights lbctl set, kept across restarts. One server a line:
 *
 *	# comment
 *	server POOL/NAME ready|drain|maint [weight N]
 *
 * Parsing and formatting are pure (the unit suite feeds them strings);
 * lb_state_write replaces the file atomically. */
#ifndef LBD_STATE_H
#define LBD_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "lbd_balance.h"

#define LB_STATE_NAME_MAX	64		/* as LBD_NAME_MAX */
#define LB_STATE_LINE_MAX	512		/* bytes, LF excluded */
#define LB_STATE_FILE_MAX	(1024 * 1024)

struct lb_state_entry {
	char		 pool[LB_STATE_NAME_MAX];
	char		 server[LB_STATE_NAME_MAX];
	enum lb_admin	 admin;
	unsigned	 weight;		/* 0: the configured one */
};

/* What a parse reports: each good line to entry, each bad one to bad with
 * what was expected. Lines count from 1. */
struct lb_state_cb {
	void	(*entry)(const struct lb_state_entry *, unsigned line,
		    void *arg);
	void	(*bad)(unsigned line, const char *why, void *arg);
	void	*arg;
};

/* Pool and server names: letters, digits, '-', '_', '.'; 1 to
 * LB_STATE_NAME_MAX - 1 bytes (lbd.conf(5) uses the same rule). */
bool	 lb_name_valid(const char *, size_t len);
/* ready, drain, maint. */
const char *lb_admin_name(enum lb_admin);

/* Returns the number of bad lines (their entries are not reported). A
 * last line without LF counts. */
unsigned lb_state_parse(const char *text, size_t len, const struct lb_state_cb *);
/* Append the header comment / one entry's line. 0, or -1 at the cap. */
int	 lb_state_format_header(struct buf *);
int	 lb_state_format(struct buf *, const struct lb_state_entry *);

/* The whole file into out, which the call initializes (at most
 * LB_STATE_FILE_MAX bytes): 0, the caller frees out; or -1 with err and
 * errno (ENOENT: no file yet), out left empty. */
int	 lb_state_read(const char *path, struct buf *out, char *err,
	    size_t errlen);
/* Replace path with data: a temporary file beside it, fsync, rename over
 * path, fsync of the directory. 0, or -1 with err (the old file stays
 * unless only the directory's fsync failed). */
int	 lb_state_write(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);

#endif

/* ag_tail — following log files: files found by glob, read as they grow,
 * rotation told by inode and device plus a fingerprint of the first bytes
 * (a renamed file is read to its end before the new one), copytruncate
 * told by the file shrinking, and positions kept in a state file so a
 * restart neither loses nor repeats lines.
 *
 * Lines are handed to the sink in order; positions are saved only by
 * ag_tail_commit(), which the owner calls after the sink has made the lines
 * it got durable (the spool's fdatasync): a crash in between repeats at
 * most those lines, a graceful stop repeats nothing. */
#ifndef AG_TAIL_H
#define AG_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_ctx;
struct conf_stmt;
struct conf_directive;
struct ctl_conn;
struct ev_loop;
struct metrics;

enum ag_log_format {
	AG_FMT_RAW,		/* lines as they are */
	AG_FMT_COMBINED,	/* NCSA combined (+ request time): webd, lbd, nginx */
	AG_FMT_JSON,		/* one JSON object a line: webd, lbd json logs */
};

/* log NAME { path GLOB ... ; format raw|combined|json; category C;
 *	      start-at end|beginning; max-line SIZE } */
struct ag_log_conf {
	struct ag_log_conf *next;
	char		*name;
	char		**paths;	/* globs */
	size_t		 npaths;
	enum ag_log_format format;
	char		*category;	/* default: the name */
	bool		 from_start;	/* files found at first start */
	uint64_t	 max_line;	/* longer lines are cut (counted) */
};

/* The `log` block directive handler (a conf_directive fn): appends to the
 * list at offsetof given in the directive (struct ag_log_conf **). */
int	 ag_conf_log(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *obj);
void	 ag_log_conf_free(struct ag_log_conf *);

struct ag_tail_sink {
	/* One complete line (no newline). -1 refuses it (the spool is
	 * full): the tailer stops reading that file and tries again at the
	 * next poll, so nothing is skipped. */
	int	(*line)(void *arg, const struct ag_log_conf *, const char *path,
		    const char *line, size_t len);
};

struct ag_tail;

struct ag_tail	*ag_tail_new(const char *state_path, struct ag_log_conf *logs,
		    const struct ag_tail_sink *, void *arg, struct metrics *,
		    char *err, size_t errlen);
/* New configuration: files still matched keep their positions. */
int		 ag_tail_reload(struct ag_tail *, struct ag_log_conf *logs,
		    char *err, size_t errlen);
/* Look for new files and new lines now (the owner polls on a timer).
 * Returns the number of lines handed to the sink. */
size_t		 ag_tail_poll(struct ag_tail *);
/* Save the positions of everything handed to the sink so far. */
int		 ag_tail_commit(struct ag_tail *, char *err, size_t errlen);
/* `agentctl status` lines: one per file followed. */
void		 ag_tail_status(struct ag_tail *, struct ctl_conn *);
void		 ag_tail_free(struct ag_tail *);

#endif

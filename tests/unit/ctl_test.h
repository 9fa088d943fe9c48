/* Helpers shared by the ctl unit tests (test_ctl.c, test_ctl_client.c):
 * a server on an ev loop in the test process, in a temporary directory,
 * with a command table whose streams a 5 ms timer feeds. */
#ifndef STACKD_CTL_TEST_H
#define STACKD_CTL_TEST_H

#include <stdint.h>
#include <sys/types.h>

#include "ctl.h"
#include "ev.h"
#include "suites.h"

#define CT_DEADLINE_MS	3000
#define CT_NSTREAMS	8
#define CT_OUTPUT_MAX	8192	/* the test server's output_max */

uint64_t	 ct_now_ms(void);

/* Drive the loop until cond holds; fail after CT_DEADLINE_MS. */
#define RUN_UNTIL(t, cond) do {						\
	uint64_t dl_ = ct_now_ms() + CT_DEADLINE_MS;			\
	while (!(cond)) {						\
		ck_assert_msg(ct_now_ms() < dl_, "timed out: %s", #cond);\
		ev_run_once((t)->loop, 10);				\
	}								\
} while (0)

enum stream_mode { S_TICK, S_FLOOD, S_SILENT, S_LATE_ERROR };

struct stream {
	struct ctl_conn	*conn;
	enum stream_mode mode;
	int		 n;		/* lines written */
	int		 left;		/* lines until ctl_end, -1: forever */
};

struct tctx {
	struct ev_loop	*loop;
	struct ctl_server *srv;
	char		 dir[64];
	char		 path[128];
	struct stream	 streams[CT_NSTREAMS];
	struct ev_timer	 tick;
	int		 closed;	/* on_close calls */
	int		 dropped;	/* ctl_printf refusals on streams */
};

/* Commands: status, echo WORD..., fail NAME (error after payload), quiet
 * (replies nothing), big LINES, watch (ticks forever), count N (N ticks,
 * then ends), flood (writes until refused), hang (streams nothing), late N
 * (nothing for N ticks, then an error reply: a deferred answer). */
void		 ct_setup(struct tctx *, mode_t mode);
/* Frees the server and checks the socket file went with it. */
void		 ct_teardown(struct tctx *);

/* Test cases defined in test_ctl_client.c. */
TCase		*ctl_client_tcase(void);

#endif

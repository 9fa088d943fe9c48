/* log — the one place daemons write diagnostics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	const char	*progname;
	int		 to_stderr;
	int		 verbose;
	void		(*sink)(enum log_level, const char *, void *);
	void		*sink_arg;
} lg = { "stackd", 1, 0, NULL, NULL };

static const int syslog_prio[] = {
	[LOG_LVL_ERR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

static const char *const level_name[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *progname, int to_stderr, int verbose)
{
	if (!lg.to_stderr)
		closelog();
	lg.progname = progname;
	lg.to_stderr = to_stderr;
	lg.verbose = verbose;
	if (!to_stderr)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setverbose(int verbose)
{
	lg.verbose = verbose;
}

int
log_getverbose(void)
{
	return lg.verbose;
}

void
log_set_sink(void (*sink)(enum log_level, const char *, void *), void *arg)
{
	lg.sink = sink;
	lg.sink_arg = arg;
}

void
log_vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[2048];
	int	 saved_errno = errno;
	int	 n;

	if (level == LOG_LVL_DEBUG && lg.verbose < 1)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (with_errno)
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved_errno));

	if (lg.sink != NULL)
		lg.sink(level, msg, lg.sink_arg);
	else if (lg.to_stderr)
		fprintf(stderr, "%s: %s%s%s\n", lg.progname,
		    level <= LOG_LVL_WARN ? level_name[level] : "",
		    level <= LOG_LVL_WARN ? ": " : "", msg);
	else
		syslog(syslog_prio[level], "%s", msg);
	errno = saved_errno;
}

#define LOG_FN(fn, level, with_errno)				\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vlog(level, with_errno, fmt, ap);			\
	va_end(ap);						\
}
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LVL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

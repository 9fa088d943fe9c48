/* log — syslog when daemonized, stderr in the foreground (-d). */
#ifndef STACKD_LOG_H
#define STACKD_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* to_stderr: 1 for -d, 0 for syslog (LOG_DAEMON). verbose: count of -v;
 * 0 logs up to info, 1 or more adds debug. Safe to call again (reload). */
void	log_init(const char *progname, int to_stderr, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
/* Send stderr lines to a callback instead (unit tests capture them). */
void	log_set_sink(void (*sink)(enum log_level, const char *msg, void *arg), void *arg);

/* log_warn/fatal append ": strerror(errno)"; the x variants do not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_vlog(enum log_level, int with_errno, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));
/* Fill a caller's error buffer (NULL or size 0: ignored); returns -1 so
 * failures read "return seterr(err, errlen, ...)". A message longer
 * than the buffer is cut short, as snprintf does. */
int	seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* log.c - stderr or syslog logging; see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* Written once by log_open() before any other thread of work starts. */
static struct {
	const char *ident;
	bool to_syslog;
	int verbosity;
} log_cfg = { "lixs", false, 0 };

void log_open(const char *ident, bool to_syslog, int verbosity)
{
	log_cfg.ident = ident;
	log_cfg.to_syslog = to_syslog;
	log_cfg.verbosity = verbosity;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool log_debug_enabled(void)
{
	return log_cfg.verbosity > 0;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	int saved = errno;	/* callers may log between a failure and its use */
	va_list ap;

	if (prio == LOG_DEBUG && !log_debug_enabled())
		return;
	va_start(ap, fmt);
	if (log_cfg.to_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fprintf(stderr, "%s: %s: ", log_cfg.ident, prio_name(prio));
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
	errno = saved;
}

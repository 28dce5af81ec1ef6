/* SPDX-License-Identifier: GPL-2.0-only */
/* log.c - stderr or syslog logging; see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/*
 * One write a line: both processes share the broker's stderr (under
 * systemd one stream to the journal), and a line written in pieces can
 * be cut by the other's.  A pipe keeps writes of up to PIPE_BUF whole,
 * so a line is cut to LOG_LINE_MAX bytes, marked "...".
 */
__attribute__((format(printf, 2, 0)))
static void log_line_stderr(int prio, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int head = snprintf(line, sizeof(line), "%s: %s: ", log_cfg.ident, prio_name(prio));
	size_t n = head < 0 ? 0 : (size_t)head;
	ssize_t w;

	if (n < sizeof(line)) {
		int body = vsnprintf(line + n, sizeof(line) - n, fmt, ap);

		n += body < 0 ? 0 : (size_t)body;
	}
	if (n > sizeof(line) - 2) {
		n = sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	line[n++] = '\n';
	do
		w = write(STDERR_FILENO, line, n);
	while (w < 0 && errno == EINTR);
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
		log_line_stderr(prio, fmt, ap);
	}
	va_end(ap);
	errno = saved;
}

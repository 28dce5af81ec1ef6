/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - one logging path for both processes.
 *
 * In the foreground, lines go to stderr as "<ident>: <level>: text";
 * daemonized, they go to syslog (the journal under systemd).  The
 * configuration is set once at start-up by log_open() and read-only
 * afterwards, which is why it may live outside the process context.
 */
#ifndef LIXS_LOG_H
#define LIXS_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* A stderr line's longest, newline included: PIPE_BUF, which a pipe
 * never splits; longer ones are cut, ending in "...". */
#define LOG_LINE_MAX 4096

/* verbosity: 0 = LOG_INFO and above, 1 (-V) = LOG_DEBUG too. */
void log_open(const char *ident, bool to_syslog, int verbosity);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* True when a LOG_DEBUG line would be emitted (to skip costly formatting). */
bool log_debug_enabled(void);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif

/*
 * log - dnsguard's one logging API.
 *
 * Every line goes to syslog (ident "dnsguard", the configured facility) and, when the daemon runs
 * in the foreground, to stderr as well.  Levels mean something, as Postfix's msg_* do:
 *   log_error   something failed that the admin must look at (a reload refused, a socket lost);
 *   log_warning trouble that dnsguard works around (a DNS failure, a session tempfailed);
 *   log_info    one line per decision or event, key=value, for grep;
 *   log_debug   detail for whoever is debugging.
 * Modules never print; they return errors and let the caller log.  Thread-safe.
 */
#ifndef DNSGUARD_LOG_H
#define DNSGUARD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Opens syslog with the given facility (a LOG_* value from <syslog.h>). */
void log_open(int facility, bool also_stderr);
/* Lines above this level are dropped; may be changed at any time (reload). */
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
/* Whether lines are copied to stderr (log_open's also_stderr); may be changed at any time. */
void log_set_stderr(bool also_stderr);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_error(...)   log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

const char *log_level_name(enum log_level level);
/* Name to value; false if unknown. */
bool log_level_from_name(const char *name, enum log_level *out);
bool log_facility_from_name(const char *name, int *out);

#endif

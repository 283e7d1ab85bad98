/*
 * config - dnsguard.conf: `key = value` lines, every key described in one table.
 *
 * The table (config.c) holds each key's type, default, limits and one line of help; the parser,
 * `dnsguard -n`, `dnsguard -p`, conf/dnsguard.conf and dnsguard.conf(5) agree with it (a unit test
 * holds the sample and the man page to it).  Loading is all or nothing: a file with any error
 * yields no config and a list of errors, each naming file:line and what was expected.
 */
#ifndef DNSGUARD_CONFIG_H
#define DNSGUARD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "dns_settings.h"
#include "log.h"
#include "strbuf.h"

#ifndef DNSGUARD_SYSCONFDIR
#define DNSGUARD_SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH DNSGUARD_SYSCONFDIR "/dnsguard/dnsguard.conf"

/* A loaded configuration: immutable once returned, shared read-only by every session. */
struct config {
	char *source;		/* the file it came from, or "(defaults)" */
	char *milter_socket;
	unsigned milter_socket_mode;
	char *user;
	char *group;
	char *pid_file;
	int log_facility;
	enum log_level log_level;
	struct dns_settings dns;
	unsigned dns_deadline_ms;
	char *dns_trust_anchor;	/* "" or a regular file that could be opened when loaded */
	char *dns_root_hints;	/* likewise */
	char *authserv_id;	/* "" (the MTA's {j}) or an RFC 2045 token: see auth_results.h */
	char *policy_file;
	char *badmail_dir;
	unsigned long long badmail_max_size;	/* bytes; 0: no limit */
	unsigned badmail_max_entries;		/* 0: no limit */
	char *sendmail_path;
	char *route_socket;
	unsigned route_socket_mode;
	char *route_state_file;
	unsigned route_wait_ms;
	char *metrics_socket;	/* "" (off), unix:/path, or inet/inet6 on a loopback address */
	unsigned metrics_socket_mode;
	unsigned health_dns_window_ms;
	unsigned shutdown_timeout_ms;
};

/*
 * Reads `path`.  On success returns the config; on failure returns NULL and appends one line per
 * problem to `errors` ("file:line: ...").  A missing file is an error unless `missing_ok`, in which
 * case the built-in defaults are returned.
 */
struct config *config_load(const char *path, bool missing_ok, struct strbuf *errors);
/* Parses text as if read from `source_name`; same contract as config_load. */
struct config *config_parse(const char *text, const char *source_name, struct strbuf *errors);
/* The built-in defaults. */
struct config *config_defaults(void);
void config_free(struct config *config);

/* Writes every key with its effective value, as `key = value` lines (dnsguard -p). */
void config_write(const struct config *config, FILE *out);
/* Writes the table as a commented sample (what conf/dnsguard.conf is tested against). */
void config_write_sample(FILE *out);

/* Iterates over the documented keys: returns the name of key i, or NULL past the end. */
const char *config_key_name(unsigned i);
/* Whether key i takes effect only at restart (the socket, the process's identity, syslog): a
 * reload keeps the running value and says so.  False past the last key. */
bool config_key_restart_only(unsigned i);
/* Key i's effective value, as `dnsguard -p` prints it ("" past the last key). */
void config_key_value(const struct config *config, unsigned i, char *buf, size_t size);

/* Unit parsers, also for the command-line tools: "500ms", "4s", "2m", "1h", "7d"; a bare number
 * is seconds.  "100M", "64k", "1G"; a bare number is bytes.  false on syntax error or overflow. */
bool config_parse_duration_ms(const char *text, unsigned long long *ms);
bool config_parse_size(const char *text, unsigned long long *bytes);

#endif

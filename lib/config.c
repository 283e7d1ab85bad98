/*
 * config - the dnsguard.conf parser and its table of keys; see config.h.
 *
 * Each key's default is written as text and parsed by the same code as the file, so a default
 * can never be a value the parser would reject.  Syntax: one `key = value` per line; `#` starts a
 * comment at the beginning of a line or after white space; values are taken as written, without
 * quotes.  Every error names file:line and what was expected; parsing goes on after an error so
 * that one run of `dnsguard -n` reports every problem.
 */
#include "config.h"

#include <stdarg.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth_results.h"
#include "textfile.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_ERRORS_MAX 50

enum key_type {
	KEY_STRING,	/* any text, may be empty */
	KEY_PATH,	/* an absolute path */
	KEY_PATH_OR_EMPTY,
	KEY_FILE_OR_EMPTY,	/* an absolute path to a readable regular file, or empty */
	KEY_AUTHSERV_ID,	/* an RFC 2045 token such as a host name, at most 255 bytes, or empty */
	KEY_SOCKET,	/* unix:/path, local:/path, inet:port@host, inet6:port@host */
	KEY_SOCKET_OR_EMPTY,
	KEY_LOCAL_SOCKET_OR_EMPTY,	/* unix:/path, or inet:/inet6: on a loopback address only; or empty */
	KEY_MODE,	/* octal file mode */
	KEY_DURATION,	/* milliseconds, with min/max */
	KEY_SIZE,	/* bytes, with k/M/G; 0 means no limit */
	KEY_NUMBER,	/* a whole number, with min/max */
	KEY_LOG_FACILITY,
	KEY_LOG_LEVEL,
	KEY_DNS_SERVERS,
	KEY_DNS_TRANSPORT,
	KEY_DNS_BUILTIN_ZONES,
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *default_text;
	unsigned long long min, max;	/* for durations, in ms */
	const char *help;
	bool restart_only;	/* the socket, the process's identity, syslog: a reload cannot apply it */
};

#define FIELD(f) offsetof(struct config, f)

static const struct config_key keys[] = {
	{"milter_socket", KEY_SOCKET, FIELD(milter_socket), "unix:/run/dnsguard/milter.sock", 0, 0,
	 "where the MTA connects: unix:/path, inet:port@host or inet6:port@host", true},
	{"milter_socket_mode", KEY_MODE, FIELD(milter_socket_mode), "0660", 0, 0,
	 "permissions of a unix milter socket (the MTA's user must be able to write it)", true},
	{"user", KEY_STRING, FIELD(user), "dnsguard", 0, 0,
	 "user to run as after opening the socket (empty: stay as started)", true},
	{"group", KEY_STRING, FIELD(group), "dnsguard", 0, 0,
	 "group to run as, and group of the unix socket (empty: the user's group)", true},
	{"pid_file", KEY_PATH_OR_EMPTY, FIELD(pid_file), "/run/dnsguard/dnsguard.pid", 0, 0,
	 "file to write the daemon's pid to (empty: none)", true},
	{"log_facility", KEY_LOG_FACILITY, FIELD(log_facility), "mail", 0, 0,
	 "syslog facility: mail, daemon, user or local0 to local7", true},
	{"log_level", KEY_LOG_LEVEL, FIELD(log_level), "info", 0, 0,
	 "error, warning (DNS trouble), notice, info (every SMTP stage and decision) or debug", false},
	{"dns_servers", KEY_DNS_SERVERS, FIELD(dns), "", 0, 0,
	 "empty: the servers in /etc/resolv.conf; a list of addr[@port]; or 'recursive'", false},
	{"dns_transport", KEY_DNS_TRANSPORT, FIELD(dns), "udp-tcp", 0, 0,
	 "udp-tcp (UDP, then TCP when truncated), tcp (TCP only) or udp (UDP only)", false},
	{"dns_builtin_zones", KEY_DNS_BUILTIN_ZONES, FIELD(dns), "auto", 0, 0,
	 "test., 127.in-addr.arpa. and private reverse zones: servers (ask them), local (libunbound's answers) or auto", false},
	{"dns_trust_anchor", KEY_FILE_OR_EMPTY, FIELD(dns_trust_anchor), "", 0, 0,
	 "DNSSEC trust anchor file (e.g. /usr/share/dns/root.key); a bogus answer is then its own outcome", false},
	{"dns_root_hints", KEY_FILE_OR_EMPTY, FIELD(dns_root_hints), "", 0, 0,
	 "with dns_servers = recursive: root hints of a private root (empty: the Internet's root servers)", false},
	{"dns_deadline", KEY_DURATION, FIELD(dns_deadline_ms), "4s", 100, 60000,
	 "longest wait for DNS in one SMTP stage; keep it under the MTA's milter timeouts", false},
	{"authserv_id", KEY_AUTHSERV_ID, FIELD(authserv_id), "", 0, 0,
	 "name in the Authentication-Results fields dnsguard adds (empty: the MTA's host name)", false},
	{"policy_file", KEY_PATH, FIELD(policy_file), DNSGUARD_SYSCONFDIR "/dnsguard/policy.json", 0, 0,
	 "the policy: what each check's outcome leads to (dnsguard-policy(5))", false},
	{"badmail_dir", KEY_PATH, FIELD(badmail_dir), "/var/spool/dnsguard/badmail", 0, 0,
	 "where diverted messages and undeliverable reports are kept (used when a policy rule diverts)", false},
	{"badmail_max_size", KEY_SIZE, FIELD(badmail_max_size), "1G", 0, 0,
	 "the most the badmail store may hold, all entries together (k, M, G; 0: no limit)", false},
	{"badmail_max_entries", KEY_NUMBER, FIELD(badmail_max_entries), "10000", 0, 1000000000,
	 "the most entries the badmail store may hold (0: no limit)", false},
	{"sendmail_path", KEY_PATH, FIELD(sendmail_path), "/usr/sbin/sendmail", 0, 0,
	 "the MTA's sendmail(1), through which NDRs are submitted", false},
	{"route_socket", KEY_SOCKET_OR_EMPTY, FIELD(route_socket), "", 0, 0,
	 "socketmap service for MTA routing lookups: unix:/path or inet:port@host (empty: off)", true},
	{"route_socket_mode", KEY_MODE, FIELD(route_socket_mode), "0660", 0, 0,
	 "permissions of a unix route socket (the MTA's user must be able to write it)", true},
	{"route_state_file", KEY_PATH_OR_EMPTY, FIELD(route_state_file), "/var/lib/dnsguard/routes.json", 0, 0,
	 "where the smart hosts' last good addresses are kept across restarts (empty: not kept)", true},
	{"route_wait", KEY_DURATION, FIELD(route_wait_ms), "2s", 0, 30000,
	 "longest a route lookup waits for a smart host's first DNS answer before it answers TEMP", false},
	{"metrics_socket", KEY_LOCAL_SOCKET_OR_EMPTY, FIELD(metrics_socket), "", 0, 0,
	 "HTTP endpoint for GET /metrics and /health: unix:/path or inet:port@127.0.0.1 (loopback only; empty: off)",
	 true},
	{"metrics_socket_mode", KEY_MODE, FIELD(metrics_socket_mode), "0660", 0, 0,
	 "permissions of a unix metrics socket (whoever scrapes it must be able to write it)", true},
	{"health_dns_window", KEY_DURATION, FIELD(health_dns_window_ms), "60s", 1000, 3600000,
	 "/health fails when DNS questions failed in this window and none was answered usably in it", false},
	{"shutdown_timeout", KEY_DURATION, FIELD(shutdown_timeout_ms), "30s", 0, 600000,
	 "at stop, how long to let open SMTP sessions finish", false},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

const char *config_key_name(unsigned i)
{
	return i < KEY_COUNT ? keys[i].name : NULL;
}

/* ---- unit parsers ---------------------------------------------------------------------- */

bool config_key_restart_only(unsigned i)
{
	return i < KEY_COUNT && keys[i].restart_only;
}

static void format_value(const struct config_key *key, const struct config *config, char *buf, size_t size);

void config_key_value(const struct config *config, unsigned i, char *buf, size_t size)
{
	if (i < KEY_COUNT)
		format_value(&keys[i], config, buf, size);
	else if (size)
		buf[0] = '\0';
}

static bool parse_number_with_unit(const char *text, unsigned long long *value, const char **unit)
{
	char *end;

	if (!isdigit((unsigned char)*text))
		return false;
	errno = 0;
	*value = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return false;
	*unit = end;
	return true;
}

static bool multiply(unsigned long long *value, unsigned long long factor)
{
	if (*value > ULLONG_MAX / factor)
		return false;
	*value *= factor;
	return true;
}

bool config_parse_duration_ms(const char *text, unsigned long long *ms)
{
	static const struct {
		const char *unit;
		unsigned long long factor;
	} units[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	const char *unit;

	if (!parse_number_with_unit(text, ms, &unit))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].unit) == 0)
			return multiply(ms, units[i].factor);
	return false;
}

bool config_parse_size(const char *text, unsigned long long *bytes)
{
	static const struct {
		const char *unit;
		unsigned long long factor;
	} units[] = {{"", 1}, {"k", 1ULL << 10}, {"K", 1ULL << 10}, {"M", 1ULL << 20}, {"G", 1ULL << 30}};
	const char *unit;

	if (!parse_number_with_unit(text, bytes, &unit))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].unit) == 0)
			return multiply(bytes, units[i].factor);
	return false;
}

/* ---- value parsers: each fills its field or writes what was expected into `why` -------- */

static bool set_string(char **field, const char *value, char *why, size_t whylen)
{
	char *copy = strdup(value);

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	free(*field);
	*field = copy;
	return true;
}

static bool socket_spec_valid(const char *value, char *why, size_t whylen)
{
	const char *colon = strchr(value, ':');
	const char *rest = colon ? colon + 1 : NULL;

	if (rest && (strncmp(value, "unix:", 5) == 0 || strncmp(value, "local:", 6) == 0)) {
		if (rest[0] == '/' && rest[1] != '\0' && strlen(rest) < 100)
			return true;
		snprintf(why, whylen, "expected an absolute socket path under 100 bytes after '%.*s'",
			 (int)(rest - value), value);
		return false;
	}
	if (rest && (strncmp(value, "inet:", 5) == 0 || strncmp(value, "inet6:", 6) == 0)) {
		char *end;
		unsigned long port = strtoul(rest, &end, 10);
		if (isdigit((unsigned char)*rest) && port >= 1 && port <= 65535 &&
		    (*end == '\0' || (*end == '@' && end[1] != '\0')))
			return true;
		snprintf(why, whylen, "expected %.*sPORT or %.*sPORT@HOST with PORT 1-65535",
			 (int)(rest - value), value, (int)(rest - value), value);
		return false;
	}
	snprintf(why, whylen, "expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST");
	return false;
}

/*
 * The metrics endpoint answers anyone who can connect, so TCP is for loopback only: an address
 * (never "every address") in 127.0.0.0/8 or ::1.
 */
static bool local_socket_valid(const char *value, char *why, size_t whylen)
{
	const char *at = strchr(value, '@');
	char host[INET6_ADDRSTRLEN + 2];
	unsigned char addr[16];
	size_t n;

	if (!socket_spec_valid(value, why, whylen))
		return false;
	if (strncmp(value, "unix:", 5) == 0 || strncmp(value, "local:", 6) == 0)
		return true;
	n = at ? strlen(at + 1) : 0;
	if (n >= 2 && at[1] == '[' && at[n] == ']') {
		at++;
		n -= 2;
	}
	if (n > 0 && n < sizeof(host)) {
		memcpy(host, at + 1, n);
		host[n] = '\0';
		if (strncmp(value, "inet6:", 6) == 0 ? inet_pton(AF_INET6, host, addr) == 1 && IN6_IS_ADDR_LOOPBACK(addr)
						      : inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127)
			return true;
	}
	snprintf(why, whylen, "expected unix:/path, inet:PORT@127.0.0.1 or inet6:PORT@[::1]: the endpoint is "
			      "for this machine only (a loopback address, never every address)");
	return false;
}

/*
 * libunbound reads the trust anchor and root hints only when it first resolves: a file that is
 * not there would pass `dnsguard -n` and startup and fail the first message.  Opened here as the
 * process is (root at startup, dnsguard's user at reload).  O_NONBLOCK: a FIFO must not hang us.
 */
static bool file_readable(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	bool regular;

	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot stat: %s", strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	regular = S_ISREG(st.st_mode);
	if (!regular)
		snprintf(why, whylen, "not a regular file");
	return regular;
}

/*
 * The authserv-id stands unquoted in the fields dnsguard writes and is what forged fields are
 * recognised by, so it must be an RFC 2045 token: no white space, controls, non-ASCII or
 * ()<>@,;:\"/[]?=.  A host name always is one (an internationalised one in its A-label form);
 * "@" is refused because an id is a host name (RFC 8601 2.5), never an address.  255 bytes: more
 * than any domain name, and what a session keeps whole (a longer id would be cut, and then no
 * longer match itself).
 */
static bool authserv_id_valid(const char *value, char *why, size_t whylen)
{
	static const char expected[] = "expected a host name (an RFC 2045 token: printable ASCII "
				       "without spaces or ()<>@,;:\\\"/[]?=), at most 255 bytes";
	size_t len = strlen(value);

	if (len > 255) {
		snprintf(why, whylen, "%zu bytes: %s", len, expected);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		char one[2] = {(char)*p, '\0'};
		if (auth_results_id_is_token(one))
			continue;
		if (*p > 0x20 && *p < 0x7f)
			snprintf(why, whylen, "'%c' is not allowed: %s", *p, expected);
		else
			snprintf(why, whylen, "byte 0x%02x is not allowed: %s", *p, expected);
		return false;
	}
	return true;
}

static bool parse_dns_servers(struct dns_settings *dns, const char *value, char *why, size_t whylen)
{
	char copy[1024];
	char *save = NULL;

	dns->server_count = 0;
	if (*value == '\0') {
		dns->mode = DNS_MODE_RESOLV_CONF;
		return true;
	}
	if (strcmp(value, "recursive") == 0) {
		dns->mode = DNS_MODE_RECURSIVE;
		return true;
	}
	if (strlen(value) >= sizeof(copy)) {
		snprintf(why, whylen, "list too long");
		return false;
	}
	strcpy(copy, value);
	for (char *item = strtok_r(copy, " ,\t", &save); item; item = strtok_r(NULL, " ,\t", &save)) {
		struct dns_server *server = &dns->servers[dns->server_count];
		if (dns->server_count == DNS_SERVERS_MAX) {
			snprintf(why, whylen, "at most %d servers", DNS_SERVERS_MAX);
			return false;
		}
		if (!netaddr_parse_server(item, &server->addr, &server->port)) {
			snprintf(why, whylen,
				 "'%s' is not an IP address with an optional @port (expected e.g. 192.0.2.53 "
				 "or ::1@5353), nor 'recursive'",
				 item);
			return false;
		}
		dns->server_count++;
	}
	dns->mode = DNS_MODE_FORWARD;
	return true;
}

static bool parse_value(const struct config_key *key, struct config *config, const char *value, char *why,
			size_t whylen)
{
	void *field = (char *)config + key->offset;
	unsigned long long number;
	char *end;

	switch (key->type) {
	case KEY_STRING:
		return set_string(field, value, why, whylen);
	case KEY_PATH_OR_EMPTY:
	case KEY_FILE_OR_EMPTY:
		if (*value == '\0')
			return set_string(field, value, why, whylen);
		/* fall through */
	case KEY_PATH:
		if (value[0] != '/') {
			snprintf(why, whylen, "expected an absolute path");
			return false;
		}
		if (key->type == KEY_FILE_OR_EMPTY && !file_readable(value, why, whylen))
			return false;
		return set_string(field, value, why, whylen);
	case KEY_AUTHSERV_ID:
		return authserv_id_valid(value, why, whylen) && set_string(field, value, why, whylen);
	case KEY_SOCKET_OR_EMPTY:
		if (*value == '\0')
			return set_string(field, value, why, whylen);
		/* fall through */
	case KEY_SOCKET:
		return socket_spec_valid(value, why, whylen) && set_string(field, value, why, whylen);
	case KEY_LOCAL_SOCKET_OR_EMPTY:
		if (*value == '\0')
			return set_string(field, value, why, whylen);
		return local_socket_valid(value, why, whylen) && set_string(field, value, why, whylen);
	case KEY_MODE:
		number = strtoull(value, &end, 8);
		if (*value == '\0' || *end != '\0' || number > 0777) {
			snprintf(why, whylen, "expected an octal mode such as 0660");
			return false;
		}
		*(unsigned *)field = (unsigned)number;
		return true;
	case KEY_DURATION:
		if (!config_parse_duration_ms(value, &number)) {
			snprintf(why, whylen, "expected a duration such as 500ms, 4s or 2m");
			return false;
		}
		if (number < key->min || number > key->max) {
			snprintf(why, whylen, "expected a duration from %llums to %llums", key->min, key->max);
			return false;
		}
		*(unsigned *)field = (unsigned)number;
		return true;
	case KEY_SIZE:
		if (!config_parse_size(value, &number)) {
			snprintf(why, whylen, "expected a size such as 500M or 2G (0: no limit)");
			return false;
		}
		*(unsigned long long *)field = number;
		return true;
	case KEY_NUMBER:
		number = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end != '\0' || number < key->min || number > key->max) {
			snprintf(why, whylen, "expected a whole number from %llu to %llu", key->min, key->max);
			return false;
		}
		*(unsigned *)field = (unsigned)number;
		return true;
	case KEY_LOG_FACILITY:
		if (!log_facility_from_name(value, field)) {
			snprintf(why, whylen, "expected mail, daemon, user or local0 to local7");
			return false;
		}
		return true;
	case KEY_LOG_LEVEL:
		if (!log_level_from_name(value, field)) {
			snprintf(why, whylen, "expected error, warning, notice, info or debug");
			return false;
		}
		return true;
	case KEY_DNS_SERVERS:
		return parse_dns_servers(field, value, why, whylen);
	case KEY_DNS_TRANSPORT:
		if (!dns_transport_from_name(value, &((struct dns_settings *)field)->transport)) {
			snprintf(why, whylen, "expected udp-tcp, tcp or udp");
			return false;
		}
		return true;
	case KEY_DNS_BUILTIN_ZONES:
		if (!dns_builtin_zones_from_name(value, &((struct dns_settings *)field)->builtin_zones)) {
			snprintf(why, whylen, "expected auto, servers or local");
			return false;
		}
		return true;
	}
	snprintf(why, whylen, "internal error: unknown key type");
	return false;
}

/* ---- the file ---------------------------------------------------------------------------- */

static const struct config_key *find_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Edit distance, bounded, to suggest the key an admin probably meant. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *suggest_key(const char *name)
{
	const char *best = NULL;
	unsigned best_distance = 3;

	for (size_t i = 0; i < KEY_COUNT; i++) {
		unsigned d = distance(name, keys[i].name);
		if (d < best_distance) {
			best_distance = d;
			best = keys[i].name;
		}
	}
	return best;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cuts a comment that starts after white space. */
static void strip_trailing_comment(char *value)
{
	for (char *p = value; *p; p++)
		if (*p == '#' && (p == value || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
}

static unsigned error_count(const struct strbuf *errors)
{
	unsigned n = 0;

	for (const char *p = strbuf_text(errors); *p; p++)
		n += *p == '\n';
	return n;
}

static void add_error(struct strbuf *errors, const char *source, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_error(struct strbuf *errors, const char *source, unsigned line, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (error_count(errors) >= CONFIG_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line)
		strbuf_appendf(errors, "%s:%u: %s\n", source, line, text);
	else
		strbuf_appendf(errors, "%s: %s\n", source, text);
}

static struct config *config_new(const char *source)
{
	struct config *config = calloc(1, sizeof(*config));
	char why[256];

	if (!config)
		return NULL;
	config->source = strdup(source);
	if (!config->source) {
		free(config);
		return NULL;
	}
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (!parse_value(&keys[i], config, keys[i].default_text, why, sizeof(why))) {
			config_free(config);
			return NULL;
		}
	return config;
}

struct config *config_defaults(void)
{
	return config_new("(defaults)");
}

struct config *config_parse(const char *text, const char *source_name, struct strbuf *errors)
{
	struct config *config = config_new(source_name);
	unsigned first_seen[KEY_COUNT] = {0};
	unsigned errors_before = error_count(errors);
	unsigned lineno = 0;
	const char *p = text;

	if (!config) {
		add_error(errors, source_name, 0, "out of memory");
		return NULL;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096];
		char *key, *value, *eq;
		char why[512];

		lineno++;
		if (len >= sizeof(line)) {
			add_error(errors, source_name, lineno, "line longer than %zu bytes", sizeof(line) - 1);
			goto next;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (memchr(p, '\0', len)) {
			add_error(errors, source_name, lineno, "NUL byte in line");
			goto next;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			goto next;
		eq = strchr(key, '=');
		if (!eq) {
			add_error(errors, source_name, lineno, "expected 'key = value', found '%.60s'", key);
			goto next;
		}
		*eq = '\0';
		value = eq + 1;
		strip_trailing_comment(value);
		key = trim(key);
		value = trim(value);
		const struct config_key *k = find_key(key);
		if (!k) {
			const char *guess = suggest_key(key);
			if (guess)
				add_error(errors, source_name, lineno, "unknown key '%.60s' (did you mean '%s'?)", key,
					  guess);
			else
				add_error(errors, source_name, lineno,
					  "unknown key '%.60s' (dnsguard.conf(5) lists the keys)", key);
			goto next;
		}
		size_t index = (size_t)(k - keys);
		if (first_seen[index]) {
			add_error(errors, source_name, lineno, "duplicate key '%s' (first set at line %u)", key,
				  first_seen[index]);
			goto next;
		}
		first_seen[index] = lineno;
		if (!parse_value(k, config, value, why, sizeof(why)))
			add_error(errors, source_name, lineno, "%s = %.80s: %s", key, value, why);
	next:
		p += len + (nl ? 1 : 0);
	}
	if (error_count(errors) > errors_before || strbuf_truncated(errors)) {
		config_free(config);
		return NULL;
	}
	return config;
}

struct config *config_load(const char *path, bool missing_ok, struct strbuf *errors)
{
	struct config *config;
	char *text, why[256];
	size_t len;
	bool missing;

	if (!textfile_read(path, CONFIG_FILE_MAX, &text, &len, &missing, why, sizeof(why))) {
		if (missing && missing_ok) {
			config = config_new(path);
			if (!config)
				add_error(errors, path, 0, "out of memory");
			return config;
		}
		add_error(errors, path, 0, "%s", why);
		return NULL;
	}
	if (strlen(text) != len)
		add_error(errors, path, 0, "NUL byte in file");
	config = strlen(text) == len ? config_parse(text, path, errors) : NULL;
	free(text);
	return config;
}

void config_free(struct config *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++)
		switch (keys[i].type) {
		case KEY_STRING:
		case KEY_PATH:
		case KEY_PATH_OR_EMPTY:
		case KEY_FILE_OR_EMPTY:
		case KEY_AUTHSERV_ID:
		case KEY_SOCKET:
		case KEY_SOCKET_OR_EMPTY:
		case KEY_LOCAL_SOCKET_OR_EMPTY:
			free(*(char **)((char *)config + keys[i].offset));
			break;
		case KEY_MODE:
		case KEY_DURATION:
		case KEY_SIZE:
		case KEY_NUMBER:
		case KEY_LOG_FACILITY:
		case KEY_LOG_LEVEL:
		case KEY_DNS_SERVERS:
		case KEY_DNS_TRANSPORT:
		case KEY_DNS_BUILTIN_ZONES:
			break;
		}
	free(config->source);
	free(config);
}

/* ---- writing ------------------------------------------------------------------------------- */

static void format_duration(unsigned ms, char *buf, size_t size)
{
	if (ms % 86400000 == 0 && ms)
		snprintf(buf, size, "%ud", ms / 86400000);
	else if (ms % 3600000 == 0 && ms)
		snprintf(buf, size, "%uh", ms / 3600000);
	else if (ms % 60000 == 0 && ms)
		snprintf(buf, size, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%us", ms / 1000);
	else
		snprintf(buf, size, "%ums", ms);
}

static void format_size(unsigned long long bytes, char *buf, size_t size)
{
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, size, "%lluG", bytes >> 30);
	else if (bytes && bytes % (1ULL << 20) == 0)
		snprintf(buf, size, "%lluM", bytes >> 20);
	else if (bytes && bytes % (1ULL << 10) == 0)
		snprintf(buf, size, "%lluk", bytes >> 10);
	else
		snprintf(buf, size, "%llu", bytes);
}

static const char *facility_name(int facility)
{
	static const char *const names[] = {"mail", "daemon", "user", "local0", "local1", "local2",
					    "local3", "local4", "local5", "local6", "local7"};
	int value;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (log_facility_from_name(names[i], &value) && value == facility)
			return names[i];
	return "?";
}

static void format_value(const struct config_key *key, const struct config *config, char *buf, size_t size)
{
	const void *field = (const char *)config + key->offset;
	const struct dns_settings *dns = field;

	switch (key->type) {
	case KEY_STRING:
	case KEY_PATH:
	case KEY_PATH_OR_EMPTY:
	case KEY_FILE_OR_EMPTY:
	case KEY_AUTHSERV_ID:
	case KEY_SOCKET:
	case KEY_SOCKET_OR_EMPTY:
	case KEY_LOCAL_SOCKET_OR_EMPTY:
		snprintf(buf, size, "%s", *(char *const *)field);
		return;
	case KEY_MODE:
		snprintf(buf, size, "%04o", *(const unsigned *)field);
		return;
	case KEY_DURATION:
		format_duration(*(const unsigned *)field, buf, size);
		return;
	case KEY_SIZE:
		format_size(*(const unsigned long long *)field, buf, size);
		return;
	case KEY_NUMBER:
		snprintf(buf, size, "%u", *(const unsigned *)field);
		return;
	case KEY_LOG_FACILITY:
		snprintf(buf, size, "%s", facility_name(*(const int *)field));
		return;
	case KEY_LOG_LEVEL:
		snprintf(buf, size, "%s", log_level_name(*(const enum log_level *)field));
		return;
	case KEY_DNS_SERVERS: {
		struct strbuf sb;
		strbuf_init(&sb, buf, size);
		if (dns->mode == DNS_MODE_RECURSIVE)
			strbuf_append(&sb, "recursive");
		for (size_t i = 0; dns->mode == DNS_MODE_FORWARD && i < dns->server_count; i++) {
			char one[80];
			strbuf_appendf(&sb, "%s%s", i ? " " : "", dns_server_format(&dns->servers[i], one, sizeof(one)));
		}
		return;
	}
	case KEY_DNS_TRANSPORT:
		snprintf(buf, size, "%s", dns_transport_name(dns->transport));
		return;
	case KEY_DNS_BUILTIN_ZONES:
		snprintf(buf, size, "%s", dns_builtin_zones_name(dns->builtin_zones));
		return;
	}
}

void config_write(const struct config *config, FILE *out)
{
	char value[1100];

	for (size_t i = 0; i < KEY_COUNT; i++) {
		format_value(&keys[i], config, value, sizeof(value));
		fprintf(out, "%s =%s%s\n", keys[i].name, *value ? " " : "", value);
	}
}

void config_write_sample(FILE *out)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		fprintf(out, "# %s\n#%s =%s%s\n\n", keys[i].help, keys[i].name, *keys[i].default_text ? " " : "",
			keys[i].default_text);
}

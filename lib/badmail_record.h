/*
 * badmail_record - the JSON record of a badmail entry: why the message was diverted, with the DNS
 * evidence, and what became of its NDR.
 *
 * A rendering of the decisions (decision.h) that diverted each recipient, with the same fields as
 * their decision lines, so that the log, the store and the NDR never tell different stories.
 * Written with jansson; any byte a client sent is kept readable and the JSON always valid: text
 * that is not UTF-8 has each offending byte written as "\xHH".  The format (version 1) is stable;
 * dnsguard-badmail reads it back.
 *
 *   {"version": 1, "id": "20261204T144500-0123456789abcdef", "time": "2026-12-04T14:45:00Z",
 *    "queue_id": "4Tk3Zq1x2Fz", "session": "655e1a2b0004",
 *    "client": {"name": "unknown", "address": "192.0.2.7"}, "helo": "app.example.net",
 *    "sender": "app@example.net",
 *    "recipients": [{"address": "bob@nx.example", "check": "recipient", "outcome": "nxdomain",
 *                    "action": "divert", "rule": "apps-divert", "reply": "550 5.1.2 ...",
 *                    "name": "nx.example", "cause": "",
 *                    "dns": {"q": "nx.example./MX", "outcome": "nxdomain", "rcode": "NXDOMAIN",
 *                            "ms": 31, "ttl": 900, "transport": "udp-tcp"}}],
 *    "ndr": {"status": "submitted", "detail": "queue id 4Tk3Zq2K1Lz", "time": "..."},
 *    "released": {"time": "2026-12-05T09:12:00Z", "recipients": 1}}
 *
 * "released" is there once dnsguard-badmail has re-injected the message (the last time it did).
 */
#ifndef DNSGUARD_BADMAIL_RECORD_H
#define DNSGUARD_BADMAIL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "decision.h"

enum badmail_ndr_status {
	BADMAIL_NDR_PENDING,		/* to be submitted by the worker */
	BADMAIL_NDR_SUBMITTED,		/* the MTA took it (detail: its queue id, if it gave one) */
	BADMAIL_NDR_STORED,		/* kept in the entry instead (detail: why) */
	BADMAIL_NDR_NONE,		/* not generated (detail: why: null sender, auto-submitted, ...) */
};

struct badmail_recipient {
	const char *address;		/* without <> */
	const struct decision *decision;	/* what diverted it */
};

struct badmail_record {
	const char *id;
	time_t time;
	const char *queue_id;		/* "" before the MTA gave one */
	const char *session;
	const char *client_name, *client_address, *helo;
	const char *sender;		/* without <>, "" for the null sender */
	const struct badmail_recipient *recipients;
	size_t recipient_count;
	enum badmail_ndr_status ndr;
	const char *ndr_detail;		/* may be NULL */
	time_t ndr_time;		/* when the status was set; 0: not yet */
};

/* The record as JSON text ending in a newline, malloc'd (*len set); NULL when out of memory. */
char *badmail_record_json(const struct badmail_record *record, size_t *len);

/* "pending", "submitted", "stored", "none". */
const char *badmail_ndr_status_name(enum badmail_ndr_status status);
bool badmail_ndr_status_from_name(const char *name, enum badmail_ndr_status *out);

/* What the NDR worker and the command read back from a stored record. */
struct badmail_record_summary {
	enum badmail_ndr_status ndr;
	char sender[1024];		/* as the record has it ("" for the null sender) */
	char queue_id[64];
	char session[32];
};
/* Reads a record (version 1).  -1 with a reason for anything else. */
int badmail_record_read(const char *json, size_t len, struct badmail_record_summary *out, char *err, size_t errlen);
/* The record with its "ndr" member replaced (status, detail, time), everything else kept as it
 * was; malloc'd, ending in a newline.  NULL with a reason. */
char *badmail_record_set_ndr(const char *json, size_t len, enum badmail_ndr_status status, const char *detail,
			     time_t when, size_t *outlen, char *err, size_t errlen);

/*
 * A record read back whole (dnsguard-badmail show and list): every member as the record has it,
 * "" (or -1 for a number) when the record leaves it out.  The strings belong to the struct;
 * badmail_record_parsed_free frees them.
 */
struct badmail_parsed_dns {
	char *q, *outcome, *rcode, *transport, *cause, *dnssec, *why_bogus;
	long long ms, ttl;
};
struct badmail_parsed_recipient {
	char *address, *check, *outcome, *action, *rule, *reply, *name, *cause;
	bool has_dns;
	struct badmail_parsed_dns dns;
};
struct badmail_record_parsed {
	char *id, *time, *queue_id, *session, *client_name, *client_address, *helo, *sender;
	struct badmail_parsed_recipient *recipients;
	size_t recipient_count;
	enum badmail_ndr_status ndr;
	char *ndr_detail, *ndr_time;
	bool released;
	char *released_time;
	long long released_recipients;
};
/* Reads a record (version 1: "id", "time", "sender", "recipients" and "ndr" must be there).  -1
 * with a reason for anything else, and *out then holds nothing to free. */
int badmail_record_parse(const char *json, size_t len, struct badmail_record_parsed *out, char *err, size_t errlen);
void badmail_record_parsed_free(struct badmail_record_parsed *record);

/* The record with its "released" member set (when, how many recipients), everything else kept as
 * it was; malloc'd, ending in a newline.  NULL with a reason. */
char *badmail_record_set_released(const char *json, size_t len, time_t when, size_t recipients, size_t *outlen,
				  char *err, size_t errlen);

/* Whether an address read back from a record can be given to sendmail(1) as it is: printable
 * ASCII without spaces, and nothing the record had to write as \xHH. */
bool badmail_record_address_sendable(const char *address);

#endif

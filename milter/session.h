/*
 * session - what dnsguard knows about one SMTP connection, and how its log lines begin.
 *
 * Private to milter/: the callbacks fill it in, verdicts.c runs the checks on it.  One per
 * connection, created at connect, freed at close; message fields are reset at MAIL and abort.
 */
#ifndef DNSGUARD_SESSION_H
#define DNSGUARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "fcrdns.h"
#include "helo_check.h"
#include "mail_domain.h"
#include "mailaddr.h"
#include "netaddr.h"
#include "runtime.h"
#include "session_id.h"
#include "strbuf.h"

#define NAME_MAX_LEN 256
#define ADDRESS_MAX_LEN 512
#define QUEUE_ID_MAX_LEN 64
#define LOG_LINE_LEN 4096
#define RCPT_CHECKS_MAX 16	/* recipient domains checked per message; more share the last verdict */
#define HEADER_DELETIONS_MAX 16

struct rcpt_check {
	char domain[256];
	struct mail_domain_check *check;
	const struct mail_domain_result *result;
};

struct session {
	char id[SESSION_ID_SIZE];
	bool connected;			/* the connect callback ran: counted, generation pinned */
	bool no_reply_headers;		/* SMFIP_NR_HDR negotiated: header callbacks say NOREPLY */
	struct runtime *rt;
	struct netaddr client_addr;
	bool client_addr_known;
	char client_ip[64];
	char client_name[NAME_MAX_LEN];	/* as the MTA says ("unknown" if it has none) */
	char daemon[NAME_MAX_LEN];
	char authserv_id[NAME_MAX_LEN];
	char helo[NAME_MAX_LEN];
	char queue_id[QUEUE_ID_MAX_LEN];
	unsigned messages;
	bool trusted;			/* policy trusted_networks: no checks at all */
	bool outbound_network;		/* policy outbound_networks */

	/* checks of the connection, started at connect and HELO, decided at the first RCPT */
	struct fcrdns_check *client_check;
	const struct fcrdns_result *client_result;
	struct helo_check *helo_check;
	const struct helo_result *helo_result;

	/* per message */
	char from[ADDRESS_MAX_LEN];
	struct mailaddr sender;
	bool sender_parsed;
	char auth[NAME_MAX_LEN];
	unsigned rcpt_count;
	struct mail_domain_check *sender_check;
	bool sender_undecided;		/* the sender check could not be started */
	const struct mail_domain_result *sender_result;
	struct rcpt_check *rcpts;	/* RCPT_CHECKS_MAX, allocated at the first recipient check */
	size_t rcpt_checks;
	char tags[256];			/* checks tagged, for the message line */
	unsigned noted;			/* checks whose non-blocking decision is logged (1 << check) */
	bool quarantine;
	char quarantine_reason[256];
	/* forged header fields to remove: per-name occurrence indexes */
	unsigned ar_seen, dg_seen;
	unsigned ar_delete[HEADER_DELETIONS_MAX];
	size_t ar_delete_count;
};

/* Starts a log line: "LEAD: event", where LEAD is the queue id (then session=ID follows) or the
 * session id. */
void session_line_start(struct strbuf *line, char *storage, size_t size, const struct session *s, const char *event);
void session_line_client(struct strbuf *line, const struct session *s);
void session_line_bracketed(struct strbuf *line, const char *key, const char *address);

#endif

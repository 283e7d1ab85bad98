/*
 * session - what dnsguard knows about one SMTP connection, and how its log lines begin.
 *
 * Private to milter/: the callbacks copy what the MTA sends into it, verdicts.c runs the checks
 * on it.  One per connection, created at negotiation or connect, freed at close; the message
 * within it is ended in one place, session_end_message.
 */
#ifndef DNSGUARD_SESSION_H
#define DNSGUARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "diversion.h"
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
#define RCPT_CHECKS_MAX 16	/* recipient domains checked per message; the next ones are undecided (451 by default) */

struct rcpt_check {
	char domain[256];
	struct mail_domain_check *check;
	const struct mail_domain_result *result;
};

/*
 * One MAIL transaction: set at MAIL, freed by session_end_message (the one place, shared by the
 * next MAIL, end of message, abort and close).  Its text fields (from, sender_error,
 * sender_domain, auth) follow the rule of the session's below.
 */
struct message {
	char queue_id[QUEUE_ID_MAX_LEN];	/* {i}, once the MTA has sent it */
	const char *from;		/* the envelope sender without <>, "" for the null sender */
	const char *sender_error;	/* why it does not parse, "" when it does */
	const char *sender_domain;	/* A-label form when the sender has a domain, else "" */
	const char *auth;		/* {auth_authen}: the SASL login, "" if none */
	unsigned rcpt_count;
	unsigned rcpt_accepted;		/* recipients dnsguard let through (diverted ones included) */
	struct diversion *diversion;	/* from the first diverted recipient to end of message */
	struct mail_domain_check *sender_check;
	bool sender_undecided;		/* the sender check could not be started */
	const struct mail_domain_result *sender_result;
	struct rcpt_check *rcpts;	/* RCPT_CHECKS_MAX, allocated at the first recipient check */
	size_t rcpt_checks;
	unsigned tagged;		/* checks tagged (1 << check), for the message line */
	unsigned noted;			/* checks whose non-blocking decision is logged (1 << check) */
	bool quarantine;		/* and why: the first check whose rule said so */
	enum policy_check quarantine_check;
	enum policy_outcome quarantine_outcome;
	char quarantine_rule[128];	/* the deciding rule's name (struct decision's size) */
	/* forged header fields to remove: per-name occurrence indexes of every Authentication-Results
	 * field that claims our authserv-id, however many (heap, grown as they come) */
	unsigned ar_seen, dg_seen;
	unsigned *ar_delete;
	size_t ar_delete_count, ar_delete_cap;
	bool ar_delete_lost;		/* one could not be noted (out of memory): tempfail at the end */
};

/*
 * One SMTP connection, from connect to close.  Text fields (client_name, daemon, authserv_id,
 * helo, mta_host, and the message's) are never NULL: "" until set, then a heap copy as long as the text
 * (cut at NAME_MAX_LEN or ADDRESS_MAX_LEN), so that a thousand open sessions do not each carry
 * kilobytes of empty buffers.  Set them with session_set_text only.
 */
struct session {
	char id[SESSION_ID_SIZE];
	bool connected;			/* the connect callback ran: counted, generation pinned */
	bool no_reply_headers;		/* SMFIP_NR_HDR negotiated: header callbacks say NOREPLY */
	bool body_wanted;		/* the body is sent (a policy rule diverts): divert is possible */
	bool may_skip;			/* SMFIP_SKIP negotiated: the rest of a body can be skipped */
	struct runtime *rt;
	struct netaddr client_addr;
	bool client_addr_known;
	char client_ip[48];		/* INET6_ADDRSTRLEN, or "unknown" */
	const char *client_name;	/* as the MTA says ("unknown" if it has none) */
	const char *daemon;
	const char *authserv_id;
	const char *helo;
	const char *mta_host;		/* the MTA's host name ({j}) when it is a plain one, else ours */
	unsigned messages;
	bool trusted;			/* policy trusted_networks: no checks at all */
	bool outbound_network;		/* policy outbound_networks */

	/* checks of the connection, started at connect and HELO, decided at the first RCPT */
	struct fcrdns_check *client_check;
	const struct fcrdns_result *client_result;
	struct helo_check *helo_check;
	const struct helo_result *helo_result;

	struct message msg;
};

/* Gives every text field its "" (a new session). */
void session_init_texts(struct session *s);
/* Ends the message: frees its checks, texts and lists and leaves it empty, as before MAIL. */
void session_end_message(struct session *s);
/* Sets a text field to a copy of `value` (NULL: ""), cut at `max` - 1 bytes with "..." at the
 * end when longer; the old text is freed.  False when out of memory: the field is then "", and
 * the caller tempfails rather than go on with a client's words lost. */
bool session_set_text(const char **field, const char *value, size_t max);
/* Ends the message and frees every text field (the session ends; the connection's checks are the
 * caller's). */
void session_free_texts(struct session *s);

/* Notes that Authentication-Results field number `index` (1-based, in arrival order) is to be
 * removed.  False when out of memory: ar_delete_lost is then set, and the message must not be
 * delivered with the forgery in it. */
bool session_note_forged_result(struct session *s, unsigned index);

/* Starts a log line: "LEAD: event", where LEAD is the queue id (then session=ID follows) or the
 * session id.  A queue id is written as is only when it is letters and digits, as Postfix's and
 * Sendmail's are; any other byte of it is written as \xHH, so it can never split or forge a line. */
void session_line_start(struct strbuf *line, char *storage, size_t size, const struct session *s, const char *event);
void session_line_client(struct strbuf *line, const struct session *s);
void session_line_bracketed(struct strbuf *line, const char *key, const char *address);

#endif

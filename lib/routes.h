/*
 * routes - what the route service answers: the policy's route for a key, rendered for the MTA
 * that asks, every smart host named by a host name turned into address literals that dnsguard
 * resolved itself, so that the MTA never has to resolve it.
 *
 * The names live in one table for the daemon's life (struct route_hosts), across reloads: each
 * with its last good addresses and when they were last confirmed.  A thread keeps them fresh,
 * refreshing each before its TTL runs out, in the background: a lookup never waits on DNS while a
 * good answer is held.  When a refresh fails the last good addresses keep being served (the
 * failure is logged once, as is the recovery), and the table is written to route_state_file
 * atomically at every change, so that a restart during a DNS outage still serves the last good
 * routes (DECISIONS 4: application state, not a DNS cache; libunbound stays the only cache).  A
 * name that has never resolved is waited for at most a bounded time, then answered TEMP, so that
 * the MTA defers instead of bouncing.
 *
 * Maps (the socketmap request's map name chooses the syntax):
 *   transport    Postfix transport(5):  "smtp:[192.0.2.25]:587, [2001:db8::25]:587"
 *                (a list of next hops needs Postfix 3.5 or later)
 *   mailertable  Sendmail mailertable:  "esmtp:[192.0.2.25]:[IPv6:2001:db8::25]"
 *                (a port is the mailer's argument there, not part of the value)
 */
#ifndef DNSGUARD_ROUTES_H
#define DNSGUARD_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "host_lookup.h"
#include "policy.h"
#include "strbuf.h"

#define ROUTES_REPLY_MAX 100000	/* Postfix's socketmap client reads no more */

struct route_hosts;

/* Resolves one name for the table, on its thread: the daemon pins its current generation and
 * asks its resolver (host_lookup), bounded by that generation's deadline. */
typedef void route_resolve_fn(void *arg, const char *name, struct host_addresses *out);

/*
 * Starts the table and its thread; loads `state_file` (NULL or "": no state kept) if it exists:
 * its names are served at once and refreshed.  NULL with a reason (a state file that cannot be
 * read or parsed is not an error: it is logged and ignored).
 */
struct route_hosts *route_hosts_start(const char *state_file, route_resolve_fn *resolve, void *arg, char *err,
				      size_t errlen);
/* Stops the thread (after the lookup in hand) and frees. NULL: nothing. */
void route_hosts_stop(struct route_hosts *hosts);
/* The names `policy`'s routes need (at start and at every reload): each is asked again at once
 * (the last good addresses are served meanwhile).  A name no route needs any more is kept a week,
 * not refreshed, so that a route switched away and back has its addresses at once. */
void route_hosts_want(struct route_hosts *hosts, const struct policy *policy);

/* What an answer rested on, for the lookup's debug line. */
struct route_answer_info {
	const char *route;		/* the route's name, or NULL when none matched */
	bool stale;			/* a host's addresses are the last good ones: its refresh fails */
};

/*
 * The reply to one request (`map`, `key` as the socketmap client sent them): "OK value",
 * "NOTFOUND ", "TEMP reason" or "PERM reason".  May wait up to wait_ms for a name that has never
 * resolved.  `info` may be NULL.
 */
void route_answer(struct route_hosts *hosts, const struct policy *policy, const char *map, const char *key,
		  unsigned wait_ms, struct strbuf *reply, struct route_answer_info *info);

#endif

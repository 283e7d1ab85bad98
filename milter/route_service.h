/*
 * route_service - the daemon's socketmap route service (route_socket): Postfix's transport_maps
 * and Sendmail's mailertable ask it where to send mail, and get smart hosts as address literals
 * (lib/routes.h), answered from the current generation's policy.
 *
 * It runs beside the milter and shares nothing with it but the generation: a lookup pins the
 * generation it starts on (a reload never changes an answer half-way), and each has its own
 * thread (lib/socketmap.h), so neither slows the other.
 */
#ifndef DNSGUARD_ROUTE_SERVICE_H
#define DNSGUARD_ROUTE_SERVICE_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "strbuf.h"

/* Opens route_socket (as root, before privileges are dropped: the socket is then given to
 * uid/gid).  Nothing to do when route_socket is empty.  False with a line in errors. */
bool route_service_open(const struct config *config, uid_t uid, gid_t gid, struct strbuf *errors);
/* Starts keeping the routes' smart hosts fresh (as dnsguard's user: route_state_file is its),
 * with the current generation's routes.  False with a line in errors. */
bool route_service_start(const struct config *config, struct strbuf *errors);
/* After a reload: the new generation's routes (every name is asked again). */
void route_service_reloaded(void);
/* Stops answering and frees. */
void route_service_stop(void);

#endif

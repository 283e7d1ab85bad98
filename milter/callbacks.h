/*
 * callbacks - the libmilter face of dnsguard: the filter description and its callbacks.
 *
 * Callbacks adapt libmilter to the core and keep per-session state; they make no decisions of
 * their own.  The session count lets main() wait for open sessions at stop, which libmilter does
 * not do by itself.
 */
#ifndef DNSGUARD_CALLBACKS_H
#define DNSGUARD_CALLBACKS_H

#include <libmilter/mfapi.h>
#include <stdbool.h>

extern struct smfiDesc callbacks_filter;

/* While draining (at stop), new sessions are tempfailed at connect. */
void callbacks_set_draining(bool draining);
/* Whether new sessions are taken (not draining). */
bool callbacks_accepting(void);
/* Sessions open now. */
unsigned callbacks_open_sessions(void);
/* Waits until no session is open or timeout_ms passes; true if none is left. */
bool callbacks_wait_idle(unsigned timeout_ms);

#endif

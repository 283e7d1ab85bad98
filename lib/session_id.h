/*
 * session_id - short ids for SMTP sessions, unique per host for practical purposes.
 *
 * The MTA's queue id does not exist at connect or HELO (and with Postfix not before the first
 * accepted RCPT), so every session gets its own id to lead its log lines until then.  Ids are
 * 12 lowercase hex digits: 32 bits of the start time in seconds and a 16-bit counter, so they
 * sort by time, never repeat within 65536 sessions a second, and cannot be mistaken for a Postfix
 * queue id (those are 10-12 uppercase hex digits, or long ids with a 'z').
 */
#ifndef DNSGUARD_SESSION_ID_H
#define DNSGUARD_SESSION_ID_H

#include <stddef.h>

#define SESSION_ID_SIZE 13

/* Writes a new id (SESSION_ID_SIZE bytes with the NUL).  Thread-safe. */
void session_id_new(char id[SESSION_ID_SIZE]);

#endif

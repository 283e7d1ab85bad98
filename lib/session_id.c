/*
 * session_id - time plus counter; see session_id.h.
 */
#include "session_id.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static atomic_uint counter;

void session_id_new(char id[SESSION_ID_SIZE])
{
	uint32_t now = (uint32_t)time(NULL);
	unsigned n = atomic_fetch_add(&counter, 1) & 0xffffu;

	snprintf(id, SESSION_ID_SIZE, "%08x%04x", now, n);
}

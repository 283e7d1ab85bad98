/*
 * fake_mta - a stand-in for milter/mta.c in unit tests; see fake_mta.c.
 */
#ifndef DNSGUARD_FAKE_MTA_H
#define DNSGUARD_FAKE_MTA_H

#include <stdbool.h>

#include "mta.h"

#define FAKE_MACROS 16

struct fake_mta {
	char macro_names[FAKE_MACROS][32];
	char macro_values[FAKE_MACROS][256];
	void *priv;
	/* what the filter asked for */
	char reply[1024];		/* "451 4.3.0 text", the last one */
	unsigned deleted;
	char last_deleted[128];
	char prepended[4096];		/* "Name: value\n" per field, in order */
	char quarantined[512];
	char deleted_rcpts[1024];	/* "<rcpt>\n" per recipient removed, in order */
	/* make the next calls of a kind fail */
	bool refuse_reply, refuse_delete, refuse_prepend, refuse_quarantine, refuse_delrcpt;
};

extern struct fake_mta fake_mta;

void fake_mta_reset(void);
/* Sets (or replaces) a macro the filter will see. */
void fake_mta_macro(const char *name, const char *value);

#endif

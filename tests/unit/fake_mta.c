/*
 * fake_mta - milter/mta.h without libmilter, for unit tests of the callbacks: macros come from a
 * table the test fills, every change asked for is recorded, and any kind of call can be made to
 * fail, as a real MTA may refuse it.
 */
#include "fake_mta.h"

#include <stdio.h>
#include <string.h>

struct fake_mta fake_mta;

void fake_mta_reset(void)
{
	memset(&fake_mta, 0, sizeof(fake_mta));
}

void fake_mta_macro(const char *name, const char *value)
{
	for (size_t i = 0; i < FAKE_MACROS; i++)
		if (!fake_mta.macro_names[i][0] || strcmp(fake_mta.macro_names[i], name) == 0) {
			snprintf(fake_mta.macro_names[i], sizeof(fake_mta.macro_names[i]), "%s", name);
			snprintf(fake_mta.macro_values[i], sizeof(fake_mta.macro_values[i]), "%s", value ? value : "");
			return;
		}
}

const char *mta_macro(SMFICTX *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = 0; i < FAKE_MACROS && fake_mta.macro_names[i][0]; i++)
		if (strcmp(fake_mta.macro_names[i], name) == 0)
			return fake_mta.macro_values[i];
	return NULL;
}

void *mta_session(SMFICTX *ctx)
{
	(void)ctx;
	return fake_mta.priv;
}

void mta_set_session(SMFICTX *ctx, void *session)
{
	(void)ctx;
	fake_mta.priv = session;
}

bool mta_set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
	(void)ctx;
	if (fake_mta.refuse_reply)
		return false;
	snprintf(fake_mta.reply, sizeof(fake_mta.reply), "%s %s %s", code, xcode ? xcode : "-", text);
	return true;
}

bool mta_delete_header(SMFICTX *ctx, const char *name, int index)
{
	(void)ctx;
	if (fake_mta.refuse_delete)
		return false;
	fake_mta.deleted++;
	snprintf(fake_mta.last_deleted, sizeof(fake_mta.last_deleted), "%s[%d]", name, index);
	return true;
}

bool mta_prepend_header(SMFICTX *ctx, const char *name, const char *value)
{
	(void)ctx;
	if (fake_mta.refuse_prepend)
		return false;
	size_t used = strlen(fake_mta.prepended);
	snprintf(fake_mta.prepended + used, sizeof(fake_mta.prepended) - used, "%s: %s\n", name, value);
	return true;
}

bool mta_quarantine(SMFICTX *ctx, const char *reason)
{
	(void)ctx;
	if (fake_mta.refuse_quarantine)
		return false;
	snprintf(fake_mta.quarantined, sizeof(fake_mta.quarantined), "%s", reason);
	return true;
}

bool mta_delete_recipient(SMFICTX *ctx, const char *recipient)
{
	(void)ctx;
	if (fake_mta.refuse_delrcpt)
		return false;
	size_t used = strlen(fake_mta.deleted_rcpts);
	snprintf(fake_mta.deleted_rcpts + used, sizeof(fake_mta.deleted_rcpts) - used, "%s\n", recipient);
	return true;
}

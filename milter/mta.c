/*
 * mta - the libmilter calls of one session; see mta.h.
 */
#include "mta.h"

#include <stddef.h>

const char *mta_macro(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

void *mta_session(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

void mta_set_session(SMFICTX *ctx, void *session)
{
	/* fails only for a NULL context, which libmilter never hands a callback */
	(void)smfi_setpriv(ctx, session);
}

bool mta_set_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
	return smfi_setreply(ctx, (char *)code, (char *)xcode, (char *)text) == MI_SUCCESS;
}

bool mta_delete_header(SMFICTX *ctx, const char *name, int index)
{
	return smfi_chgheader(ctx, (char *)name, index, NULL) == MI_SUCCESS;
}

bool mta_prepend_header(SMFICTX *ctx, const char *name, const char *value)
{
	return smfi_insheader(ctx, 0, (char *)name, (char *)value) == MI_SUCCESS;
}

bool mta_quarantine(SMFICTX *ctx, const char *reason)
{
	return smfi_quarantine(ctx, (char *)reason) == MI_SUCCESS;
}

bool mta_delete_recipient(SMFICTX *ctx, const char *recipient)
{
	return smfi_delrcpt(ctx, (char *)recipient) == MI_SUCCESS;
}

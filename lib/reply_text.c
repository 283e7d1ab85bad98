/*
 * reply_text - SMTP reply text made safe for libmilter; see reply_text.h.
 */
#include "reply_text.h"

const char *reply_text_sanitize(const char *in, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return out;
	for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
		if (*p == '%') {
			if (o + 2 >= size)
				break;
			out[o++] = '%';
			out[o++] = '%';
			continue;
		}
		if (o + 1 >= size)
			break;
		if (*p < 0x20 || *p == 0x7f)
			out[o++] = ' ';
		else if (*p >= 0x80)
			out[o++] = '?';
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	return out;
}

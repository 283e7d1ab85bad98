/*
 * auth_results - header fields dnsguard adds; see auth_results.h.
 */
#include "auth_results.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Header values hold no CR/LF and no parentheses-breaking text from peers. */
static void clean_copy(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)(src ? src : ""); *p && o + 1 < size; p++)
		dst[o++] = (*p < 0x21 || *p >= 0x7f || *p == '(' || *p == ')' || *p == ';' || *p == '\\') ? '_' : (char)*p;
	dst[o] = '\0';
}

const char *auth_results_iprev(const char *authserv_id, const char *result, const char *client_ip,
			       const char *hostname, char *buf, size_t size)
{
	char id[256], name[256], ip[64];

	clean_copy(id, sizeof(id), authserv_id);
	clean_copy(ip, sizeof(ip), client_ip);
	clean_copy(name, sizeof(name), hostname);
	if (name[0])
		snprintf(buf, size, "%s; iprev=%s policy.iprev=%s (%s)", id, result, ip, name);
	else
		snprintf(buf, size, "%s; iprev=%s policy.iprev=%s", id, result, ip);
	return buf;
}

bool auth_results_is_ours(const char *value, const char *authserv_id)
{
	const char *p = value, *start;
	size_t len;

	if (!value || !authserv_id || !*authserv_id)
		return false;
	while (*p && isspace((unsigned char)*p))
		p++;
	/* a comment may come first (RFC 8601 allows CFWS) */
	while (*p == '(') {
		int depth = 0;
		do {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (*p && depth > 0);
		while (*p && isspace((unsigned char)*p))
			p++;
	}
	start = p;
	while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '(')
		p++;
	len = (size_t)(p - start);
	return len == strlen(authserv_id) && strncasecmp(start, authserv_id, len) == 0;
}

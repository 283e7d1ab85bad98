/*
 * session - the beginnings every session log line shares; see session.h.
 */
#include "session.h"

#include <stdio.h>

void session_line_start(struct strbuf *line, char *storage, size_t size, const struct session *s, const char *event)
{
	strbuf_init(line, storage, size);
	if (s->queue_id[0]) {
		strbuf_appendf(line, "%s: %s", s->queue_id, event);
		strbuf_append_kv(line, "session", s->id);
	} else {
		strbuf_appendf(line, "%s: %s", s->id, event);
	}
}

void session_line_client(struct strbuf *line, const struct session *s)
{
	char client[NAME_MAX_LEN + 80];

	snprintf(client, sizeof(client), "%s[%s]", s->client_name, s->client_ip);
	strbuf_append_kv(line, "client", client);
}

void session_line_bracketed(struct strbuf *line, const char *key, const char *address)
{
	char value[ADDRESS_MAX_LEN + 3];

	snprintf(value, sizeof(value), "<%s>", address);
	strbuf_append_kv(line, key, value);
}

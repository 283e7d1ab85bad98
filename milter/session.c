/*
 * session - the beginnings every session log line shares; see session.h.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one "" every unset field points at; never freed. */
static const char empty_text[] = "";

void session_init_texts(struct session *s)
{
	s->client_name = s->daemon = s->authserv_id = s->helo = empty_text;
	s->from = s->sender_domain = s->auth = empty_text;
}

bool session_set_text(const char **field, const char *value, size_t max)
{
	size_t len = value ? strlen(value) : 0;
	char *copy;

	if (*field && *field != empty_text)
		free((char *)*field);
	*field = empty_text;
	if (len == 0 || max < 4)
		return true;
	if (len >= max) {
		/* overlong text is cut, and says so */
		if (!(copy = malloc(max)))
			return false;
		memcpy(copy, value, max - 4);
		memcpy(copy + max - 4, "...", 4);
	} else {
		if (!(copy = malloc(len + 1)))
			return false;
		memcpy(copy, value, len + 1);
	}
	*field = copy;
	return true;
}

void session_free_texts(struct session *s)
{
	const char **fields[] = {&s->client_name, &s->daemon, &s->authserv_id, &s->helo,
				 &s->from, &s->sender_domain, &s->auth};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		session_set_text(fields[i], NULL, 0);
}

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

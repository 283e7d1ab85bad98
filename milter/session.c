/*
 * session - the beginnings every session log line shares; see session.h.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one "" every unset field points at; never freed. */
static const char empty_text[] = "";

static void message_init_texts(struct message *m)
{
	m->from = m->sender_error = m->sender_domain = m->auth = empty_text;
}

void session_init_texts(struct session *s)
{
	s->client_name = s->daemon = s->authserv_id = s->helo = s->mta_host = empty_text;
	message_init_texts(&s->msg);
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

void session_end_message(struct session *s)
{
	struct message *m = &s->msg;
	const char **texts[] = {&m->from, &m->sender_error, &m->sender_domain, &m->auth};

	diversion_abort(m->diversion);	/* not committed: nothing of it stays */
	mail_domain_free(m->sender_check);
	for (size_t i = 0; i < m->rcpt_checks; i++)
		mail_domain_free(m->rcpts[i].check);
	free(m->rcpts);
	free(m->ar_delete);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		session_set_text(texts[i], NULL, 0);
	memset(m, 0, sizeof(*m));
	message_init_texts(m);
}

void session_free_texts(struct session *s)
{
	const char **fields[] = {&s->client_name, &s->daemon, &s->authserv_id, &s->helo, &s->mta_host};

	session_end_message(s);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		session_set_text(fields[i], NULL, 0);
}

bool session_note_forged_result(struct session *s, unsigned index)
{
	if (s->msg.ar_delete_count == s->msg.ar_delete_cap) {
		size_t cap = s->msg.ar_delete_cap ? s->msg.ar_delete_cap * 2 : 8;
		unsigned *grown = realloc(s->msg.ar_delete, cap * sizeof(*grown));
		if (!grown) {
			s->msg.ar_delete_lost = true;
			return false;
		}
		s->msg.ar_delete = grown;
		s->msg.ar_delete_cap = cap;
	}
	s->msg.ar_delete[s->msg.ar_delete_count++] = index;
	return true;
}

static bool queue_id_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void append_queue_id(struct strbuf *line, const char *qid)
{
	for (const unsigned char *p = (const unsigned char *)qid; *p; p++) {
		if (queue_id_byte(*p))
			strbuf_append_len(line, (const char *)p, 1);
		else
			strbuf_appendf(line, "\\x%02x", *p);
	}
}

void session_line_start(struct strbuf *line, char *storage, size_t size, const struct session *s, const char *event)
{
	strbuf_init(line, storage, size);
	if (s->msg.queue_id[0]) {
		append_queue_id(line, s->msg.queue_id);
		strbuf_appendf(line, ": %s", event);
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

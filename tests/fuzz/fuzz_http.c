/*
 * fuzz_http - the metrics endpoint's request head, as any local client may send it: the parser
 * reads within `len` and answers one of its five requests; and a label value, whatever its
 * bytes, is written so that it cannot end its quotes or its line in the exposition.
 */
#include "fuzz.h"
#include "metrics.h"
#include "metrics_server.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact copy: a read past the head is the sanitizer's to see */
	char *head = fuzz_malloc(size ? size : 1);
	if (size)
		memcpy(head, data, size);
	enum metrics_request r = metrics_request_parse(head, size);
	if (r != METRICS_REQUEST_METRICS && r != METRICS_REQUEST_HEALTH && r != METRICS_REQUEST_NOT_FOUND &&
	    r != METRICS_REQUEST_BAD_METHOD && r != METRICS_REQUEST_BAD)
		fuzz_fail("request %d is none of the five", (int)r);
	free(head);

	char *text = fuzz_string(data, size < 1024 ? size : 1024), storage[8192];
	struct strbuf out;
	strbuf_init(&out, storage, sizeof(storage));
	metrics_append_label_value(&out, text);
	const char *v = strbuf_text(&out);
	for (size_t i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			fuzz_fail("label value byte 0x%02x", c);
		if (c == '\\') {
			if (v[i + 1] != '\\' && v[i + 1] != '"' && v[i + 1] != 'n')
				fuzz_fail("a backslash that escapes nothing: %s", v);
			i++;
		} else if (c == '"') {
			fuzz_fail("an unescaped quote: %s", v);
		}
	}
	free(text);
	return 0;
}

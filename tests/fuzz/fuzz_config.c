/*
 * fuzz_config - config_parse of any text: a config or a list of errors, never both, never
 * neither; each error line names the source (out of memory included); what parsed writes out and
 * parses again.
 */
#include "config.h"
#include "fuzz.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), storage[8192];
	struct strbuf errors;
	struct config *config;

	strbuf_init(&errors, storage, sizeof(storage));
	config = config_parse(text, "fuzz.conf", &errors);
	if (config && strbuf_text(&errors)[0])
		fuzz_fail("a config and errors: %s", strbuf_text(&errors));
	if (!config && strncmp(strbuf_text(&errors), "fuzz.conf:", 10) != 0)
		fuzz_fail("no config, and no error naming the file: %s", strbuf_text(&errors));
	if (config) {
		char *out = NULL, storage2[8192];
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		struct strbuf errors2;
		struct config *again;
		if (!f)
			abort();
		config_write(config, f);
		fclose(f);
		strbuf_init(&errors2, storage2, sizeof(storage2));
		if (!(again = config_parse(out, "written", &errors2)) && !fuzz_faulted())
			fuzz_fail("what config_write wrote does not parse: %s\n%s", strbuf_text(&errors2), out);
		config_free(again);
		free(out);
		config_free(config);
	}
	free(text);
	return 0;
}

/*
 * fuzz_netstring - netstring_decode over any bytes: never reads past the buffer, a COMPLETE frame
 * lies inside it and within the maximum, and what is encoded again decodes to the same bytes.
 */
#include "fuzz.h"
#include "netstring.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t max = size ? data[0] * 37u : 0, at = 0;

	/* a pipelined stream: frame after frame until one is not complete */
	while (at <= size) {
		struct netstring_frame frame;
		enum netstring_error error = NETSTRING_OK;
		enum netstring_status status = netstring_decode(buf + at, size - at, max, &frame, &error);
		if (status != NETSTRING_COMPLETE) {
			if (status == NETSTRING_ERROR && error == NETSTRING_OK)
				fuzz_fail("an error without a reason");
			if (status != NETSTRING_ERROR && error != NETSTRING_OK)
				fuzz_fail("a reason without an error");
			if (status == NETSTRING_ERROR && !netstring_error_text(error))
				fuzz_fail("an error without text");
			break;
		}
		if (frame.length > max || frame.offset + frame.length >= frame.consumed || frame.consumed > size - at ||
		    frame.consumed == 0)
			fuzz_fail("a frame outside the buffer or the maximum");
		if (buf[at + frame.offset + frame.length] != ',')
			fuzz_fail("a frame that does not end in a comma");

		char storage[64];
		struct strbuf sb;
		strbuf_init(&sb, storage, sizeof(storage));
		if (frame.length < 32 && netstring_append(&sb, buf + at + frame.offset, frame.length)) {
			struct netstring_frame again;
			const char *text = strbuf_text(&sb);
			if (netstring_decode(text, strbuf_len(&sb), max, &again, &error) != NETSTRING_COMPLETE ||
			    again.length != frame.length || memcmp(text + again.offset, buf + at + frame.offset, frame.length))
				fuzz_fail("an encoded frame does not decode to its bytes");
		}
		at += frame.consumed;
	}
	return 0;
}

/*
 * badmail_ndr - the NDRs of the badmail store, submitted; see badmail_ndr.h.
 */
#include "badmail_ndr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "submit.h"

#define RECORD_MAX (1024 * 1024)

struct flush {
	struct badmail_store *store;
	const char *sendmail;
	unsigned timeout_ms;
	const atomic_bool *stop;
	badmail_ndr_reporter *report;
	void *arg;
	int handled;
};

/* Writes the outcome into the record; the file goes only once the record says so. */
static void settle(struct flush *f, const char *id, const char *json, size_t len,
		   const struct badmail_record_summary *summary, enum badmail_ndr_status status, const char *detail)
{
	char err[256] = "";
	size_t outlen;
	char *updated = badmail_record_set_ndr(json, len, status, detail, time(NULL), &outlen, err, sizeof(err));
	struct badmail_ndr_report report = {.id = id, .record = summary, .status = status, .detail = detail};
	char why[512];

	if (!updated || badmail_store_replace(f->store, id, "record.json", updated, outlen, err, sizeof(err)) != 0) {
		/* the record still says pending: the next flush tries again */
		snprintf(why, sizeof(why), "%s%sthe record could not be updated: %s", detail, *detail ? "; " : "", err);
		report.detail = why;
	} else if (status == BADMAIL_NDR_SUBMITTED && badmail_store_remove_file(f->store, id, "ndr", err, sizeof(err)) != 0) {
		snprintf(why, sizeof(why), "submitted; the ndr file stays: %s", err);
		report.detail = why;
	}
	free(updated);
	f->handled++;
	if (f->report)
		f->report(f->arg, &report);
}

static int one_entry(const char *id, void *arg)
{
	struct flush *f = arg;
	struct badmail_record_summary summary;
	char err[256] = "";
	size_t len;
	char *json = badmail_store_read_file(f->store, id, "record.json", RECORD_MAX, &len, err, sizeof(err));
	int fd;

	if (f->stop && atomic_load(f->stop)) {
		free(json);
		return 1;	/* what is left stays pending for the next flush */
	}
	if (!json || badmail_record_read(json, len, &summary, err, sizeof(err)) != 0 ||
	    summary.ndr != BADMAIL_NDR_PENDING) {
		free(json);	/* not ours to fix here: the command shows a broken record */
		return 0;
	}
	if ((fd = badmail_store_open_file(f->store, id, "ndr", err, sizeof(err))) < 0) {
		settle(f, id, json, len, &summary, BADMAIL_NDR_STORED, "the entry holds no NDR to send");
	} else if (!badmail_record_address_sendable(summary.sender)) {
		settle(f, id, json, len, &summary, BADMAIL_NDR_STORED,
		       "the sender's address cannot be given to sendmail as ASCII");
	} else {
		const char *to[] = {summary.sender};
		if (submit_message(f->sendmail, "", to, 1, fd, f->timeout_ms, err, sizeof(err)) == 0)
			settle(f, id, json, len, &summary, BADMAIL_NDR_SUBMITTED, "");
		else
			settle(f, id, json, len, &summary, BADMAIL_NDR_STORED, err);
	}
	if (fd >= 0)
		close(fd);
	free(json);
	return 0;
}

int badmail_ndr_flush(struct badmail_store *store, const char *sendmail, unsigned timeout_ms, const atomic_bool *stop,
		      badmail_ndr_reporter *report, void *arg, char *err, size_t errlen)
{
	struct flush f = {.store = store, .sendmail = sendmail, .timeout_ms = timeout_ms, .stop = stop,
			  .report = report, .arg = arg};

	if (badmail_store_each(store, one_entry, &f, err, errlen) < 0)
		return -1;
	return f.handled;
}

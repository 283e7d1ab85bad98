/*
 * check_report - the findings of one dnsguard-check command, for a person or for a script.
 *
 * A command adds sections (one per server, per DNS name, per address it looked at), each with
 * findings: one line each that says what is wrong and what to do, with the evidence it rests on
 * (server, name, type, rcode, transport, ms), and a verdict per section.  The report then prints
 * itself: aligned text (the severity in colour on a terminal only), or one JSON document with
 * every field, for scripts.  Its exit status: 0 when nothing is wrong, 1 when a finding is a
 * problem (or a warning, with strict).  Whatever the DNS or a peer said is printed through
 * printable.h: it can neither act on the terminal nor forge a line.
 */
#ifndef DNSGUARD_CHECK_REPORT_H
#define DNSGUARD_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

enum check_severity {
	CHECK_OK,		/* this part works */
	CHECK_INFO,		/* worth knowing, not wrong */
	CHECK_WARNING,		/* works now, but fragile or not as receivers like it */
	CHECK_PROBLEM,		/* breaks mail: the exit status is 1 */
};

/* What a finding rests on; unset fields are NULL (ms: -1). */
struct check_evidence {
	const char *server;	/* "127.0.0.1@53", or "resolver" for what libunbound said */
	const char *name;	/* the name asked */
	const char *type;	/* "MX", "A", ... */
	const char *rcode;	/* "NOERROR", "SERVFAIL", or an outcome: "timeout", "refused" */
	const char *transport;	/* "udp", "tcp", "udp-tcp" */
	int ms;
};
#define CHECK_EVIDENCE_NONE {NULL, NULL, NULL, NULL, NULL, -1}

struct check_report;

/* A report on `out` for `command` ("server") about `subject` ("127.0.0.1", may be ""). */
struct check_report *check_report_new(FILE *out, bool json, bool color, const char *command, const char *subject);
/* Starts a section: "server 127.0.0.1@53", "domain example.com", ... */
void check_report_section(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A finding of the current section: a short stable code ("tcp-refused", for scripts), the
 * evidence (may be NULL) and one sentence. */
void check_report_finding(struct check_report *r, enum check_severity severity, const char *code,
			  const struct check_evidence *evidence, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The current section's verdict ("deliverable", "fails temporarily") and its words. */
void check_report_verdict(struct check_report *r, const char *verdict, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints what is left (the JSON document), frees, and returns the exit status: 0, or 1 when a
 * finding was a problem. */
int check_report_finish(struct check_report *r);

const char *check_severity_name(enum check_severity severity);	/* "ok", "info", "warning", "problem" */

#endif

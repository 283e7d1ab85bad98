#!/usr/bin/python3
# tests/integration/ndr-check.py -- checks one NDR written by tests/tools/ndr-cli with a real MIME
# parser (Python's email package, policy=default), for tests/integration/ndr-parse.test.
#
#   ndr-check.py NDR ORIGINAL [--to ADDR] [--status X.Y.Z]... [--cut] [--long-lines]
#
# NDR is the report, ORIGINAL the message it was built from.  --status gives each recipient's
# expected Status in order; --to the expected To: address ("" for the undisclosed group); --cut
# that the original's headers were longer than 64 KiB; --long-lines that a single word longer
# than 78 columns is expected (only the 998 limit is checked).  Prints one line per problem and
# exits 1 if there was any, else prints nothing and exits 0.
import argparse
import re
import sys
from email import policy
from email.parser import BytesParser

ap = argparse.ArgumentParser()
ap.add_argument("ndr")
ap.add_argument("original")
ap.add_argument("--to")
ap.add_argument("--status", action="append", default=[])
ap.add_argument("--cut", action="store_true")
ap.add_argument("--long-lines", action="store_true")
args = ap.parse_args()

problems = []


def problem(text):
    problems.append(text)


raw = open(args.ndr, "rb").read()
original = open(args.original, "rb").read()

# ---- octets and lines
if any(b >= 0x80 for b in raw):
    problem("8-bit octets in the NDR")
if b"\0" in raw or b"\r" in raw:
    problem("NUL or CR in the NDR")
if not raw.endswith(b"\n"):
    problem("the NDR does not end with a line end")
for n, line in enumerate(raw.split(b"\n")[:-1], 1):
    if len(line) > 998:
        problem("line %d has %d octets (RFC 5322 allows 998)" % (n, len(line)))
    elif len(line) > 78 and not args.long_lines:
        problem("line %d has %d octets (we fold at 78): %r" % (n, len(line), line[:90]))

# ---- structure
msg = BytesParser(policy=policy.default).parsebytes(raw)


def all_defects(part, where):
    for d in part.defects:
        problem("%s: defect %s" % (where, type(d).__name__))
    for name, value in part.items():
        for d in getattr(value, "defects", ()):
            problem("%s: field %s: defect %s" % (where, name, type(d).__name__))


all_defects(msg, "top")
expected_fields = ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version",
                   "Content-Type", "Content-Transfer-Encoding"]
names = [k.lower() for k in msg.keys()]
if sorted(names) != sorted(f.lower() for f in expected_fields):
    problem("top-level fields are %s" % msg.keys())
for f in expected_fields:
    if len(msg.get_all(f) or []) != 1:
        problem("%s: %d times" % (f, len(msg.get_all(f) or [])))
if not msg.is_multipart():
    problem("not multipart")
if msg.get_content_type() != "multipart/report":
    problem("content type %s" % msg.get_content_type())
if msg.get_param("report-type") != "delivery-status":
    problem("report-type %r" % msg.get_param("report-type"))
boundary = msg.get_boundary() or ""
if "=_" not in boundary:
    problem("boundary %r has no =_" % boundary)
if str(msg["Auto-Submitted"]) != "auto-replied":
    problem("Auto-Submitted: %s" % msg["Auto-Submitted"])
sender = msg["From"].addresses
if len(sender) != 1 or sender[0].username != "MAILER-DAEMON":
    problem("From: %s" % msg["From"])
if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"])):
    problem("Message-ID: %s" % msg["Message-ID"])
if msg["Date"].datetime is None:
    problem("Date does not parse")
if args.to is not None:
    to = msg["To"]
    got = [a.addr_spec for a in to.addresses]
    want = [args.to] if args.to else []
    if got != want:
        problem("To: %r, want %r" % (got, want))
    if not args.to and str(to) != "undisclosed-recipients:;":
        problem("To: %s" % to)

parts = list(msg.iter_parts()) if msg.is_multipart() else []
types = [p.get_content_type() for p in parts]
if types != ["text/plain", "message/delivery-status", "text/rfc822-headers"]:
    problem("parts %s" % types)
    print("\n".join(problems))
    sys.exit(1)
for i, p in enumerate(parts):
    all_defects(p, "part %d" % (i + 1))

# ---- the explanation
text = parts[0].get_content()
if "What you can do" not in text:
    problem("the explanation says nothing the reader can do")

# ---- the delivery status
blocks = parts[1].get_payload()
for i, b in enumerate(blocks):
    all_defects(b, "status block %d" % i)
if not blocks or not blocks[0]["Reporting-MTA"] or not blocks[0]["Arrival-Date"]:
    problem("per-message fields missing")
per_recipient = blocks[1:]
if len(per_recipient) != len(args.status):
    problem("%d recipient blocks, want %d" % (len(per_recipient), len(args.status)))
for i, (b, status) in enumerate(zip(per_recipient, args.status)):
    for f in ("Final-Recipient", "Action", "Status", "Diagnostic-Code"):
        if len(b.get_all(f) or []) != 1:
            problem("recipient %d: %s %d times" % (i + 1, f, len(b.get_all(f) or [])))
    if not str(b["Final-Recipient"]).startswith("rfc822; "):
        problem("recipient %d: Final-Recipient: %s" % (i + 1, b["Final-Recipient"]))
    if str(b["Action"]) != "failed":
        problem("recipient %d: Action: %s" % (i + 1, b["Action"]))
    if str(b["Status"]) != status:
        problem("recipient %d: Status: %s, want %s" % (i + 1, b["Status"], status))
    if not re.match(r"smtp; 5\d\d ", str(b["Diagnostic-Code"])):
        problem("recipient %d: Diagnostic-Code: %s" % (i + 1, b["Diagnostic-Code"]))

# ---- the original's headers: cut at the first empty line, LF line ends, controls as '?'
lines = []
*complete, unended = original.split(b"\n")
for line in complete:
    line = line[:-1] if line.endswith(b"\r") else line
    if not line:
        break
    lines.append(line)
else:
    if unended:
        lines.append(unended[:-1] if unended.endswith(b"\r") else unended)
want = b"".join(re.sub(rb"[\x00-\x08\x0a-\x1f\x7f]", b"?", l) + b"\n" for l in lines)
got = parts[2].get_payload(decode=True)
if got.endswith(b"\n\n"):
    got = got[:-1]
if args.cut:
    if not (want.startswith(got) and 0 < len(got) <= 64 * 1024 and len(got) < len(want)):
        problem("cut headers: %d of %d octets, not a prefix" % (len(got), len(want)))
    if "only its beginning is attached" not in text:
        problem("the explanation does not say the headers were cut")
elif got != want:
    problem("headers differ: got %r... want %r..." % (got[:200], want[:200]))

if problems:
    print("\n".join(problems))
    sys.exit(1)

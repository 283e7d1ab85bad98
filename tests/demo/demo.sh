#!/bin/bash
# tests/demo/demo.sh -- dnsguard for real, in front of a private Postfix, for ./quickstart demo.
#
# Starts (on loopback only, in a private mount namespace, all stopped again at the end):
#   NSD serving the demo zones in tests/zones on 127.0.0.1 (a high port),
#   dnsguard with a generated default config that points at that server,
#   Postfix on 127.0.0.1 with smtpd_milters = dnsguard,
# then sends a few messages from different loopback "clients" and shows the SMTP replies and
# the log lines dnsguard wrote for each.  The demo's files stay in $T (KEEP_TMP=1 is set).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
KEEP_TMP=${KEEP_TMP:-1}
H_DUMP_LINES=${H_DUMP_LINES:-0}
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/lib/dnsguard.sh"
h_require_root
h_require_cmd nsd postfix swaks drill
h_enter_namespace "$@"
h_init demo
h_start_syslog || h_bail_out "no syslog catcher"
h_start_nsd || h_bail_out "NSD did not start"
dg_write_config "$T/dnsguard.conf" log_level=info
cp "$top_srcdir/conf/policy.json" "$T/policy.json"
dg_start || h_bail_out "dnsguard did not start"
h_start_postfix "unix:$T/dnsguard.sock" || h_bail_out "Postfix did not start"

echo
echo "dnsguard config:  $T/dnsguard.conf   (DNS: 127.0.0.1 port $DNS_PORT, zones in tests/zones)"
echo "Postfix:          127.0.0.1 port $SMTP_PORT, smtpd_milters = unix:$T/dnsguard.sock"
echo

# sample CLIENT_IP HELO FROM TO WHAT: one SMTP transaction and what came of it
sample() {
    local ip=$1 helo=$2 from=$3 to=$4 what=$5 stage reply before
    before=$(wc -l <"$T/syslog")
    echo "---- $what"
    echo "     client $ip, EHLO $helo, MAIL FROM:<$from>, RCPT TO:<$to>"
    h_swaks --local-interface "$ip" --ehlo "$helo" --from "$from" --to "$to" \
        --header "Subject: dnsguard demo: $what" >/dev/null
    for stage in MAIL RCPT DOT; do
        reply=$(h_smtp_reply_to "$stage") || continue
        printf '     %-4s -> %s\n' "$stage" "$reply"
    done
    # dnsguard's lines for this transaction, as they reach syslog (mail.log on a real system)
    sleep 0.3
    if h_smtp_reply_to DOT | grep -q '^250'; then
        h_wait_for_delivery "$to" 1 5 >/dev/null 2>&1
        local f
        f=$(ls -t "$T"/delivered/new/* 2>/dev/null | head -n 1)
        [ -n "$f" ] && sed '/^$/q' "$f" | grep -E '^(Authentication-Results|X-DNSGuard):' | sed 's/^/     header: /'
    fi
    tail -n +"$((before + 1))" "$T/syslog" | grep ' dnsguard\[' | sed 's/^/     log: /'
    echo
}

sample 127.0.0.10 good.clients.test alice@ok.test bob@dest.test \
    "a client with forward-confirmed reverse DNS, a sender domain with MX"
sample 127.0.0.12 mail.example.test carol@nxdomain.ok.test bob@dest.test \
    "a client without reverse DNS, a sender domain that does not exist"
sample 127.0.0.11 liar.clients.test dave@nullmx.test bob@dest.test \
    "a client whose PTR does not point back, a sender domain with a null MX"
sample 127.0.0.10 good.clients.test postmaster@aonly.test postmaster@dest.test \
    "mail to postmaster, a sender domain with only an A record"

dg_stop
echo "---- dnsguard stopped (exit status $DG_STATUS):"
grep -E ' dnsguard\[[0-9]+\]: (starting|stop|stopped)' "$T/syslog" | sed 's/^/     log: /'
echo
echo "Delivered messages are in $T/delivered/new; the whole syslog is $T/syslog."

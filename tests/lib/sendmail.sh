# tests/lib/sendmail.sh -- a real Sendmail 8.17 for the integration tests, beside Postfix.
#
# Sourced after harness.sh by the tests that need Sendmail.  Debian's sendmail-bin conflicts with
# postfix as an installed package, so Sendmail is never installed: its three packages are fetched
# with "apt-get download" into a cache, unpacked with "dpkg-deb -x" into a private prefix, and run
# from there with a sendmail.cf built by m4 from a .mc written for the test.  Only the shared
# libraries it links (packaging/debian-build-deps) and m4 must be real installed packages.
#
#   h_require_sendmail            preflight, before the first test: find or fetch Sendmail, or
#                                 skip the whole script saying why (bail out instead when
#                                 DNSGUARD_TEST_REQUIRE_SENDMAIL=1, as .ci/run sets: CI must run it)
#   h_start_sendmail MILTER [MC-LINE...]
#                                 start a private Sendmail whose daemon listens on
#                                 127.0.0.1:$SENDMAIL_PORT and calls the milter MILTER
#                                 ("unix:/path", or "" for none); each MC-LINE is appended to the
#                                 .mc (before the mailers), e.g. a define(...) or FEATURE(...)
#   h_stop_sendmail               stop the started Sendmail, so that a test can start another
#                                 (h_start_sendmail again, with other lines)
#   h_sendmail_queue_id           the queue id in the last transcript's "250 2.0.0 ID Message
#                                 accepted for delivery"
#   h_sendmail_wrapper FILE       write FILE, an executable that runs the started Sendmail's
#                                 binary with its -C sendmail.cf in a UTS namespace named
#                                 $H_SENDMAIL_HOSTNAME: sendmail(1) of the test instance, for
#                                 -bv, -bt, or as dnsguard's sendmail_path
#
# Environment it reads:
#   DNSGUARD_TEST_CACHE           where the downloaded packages and the unpacked prefix are kept
#                                 between runs (default /var/cache/dnsguard-test); reused when
#                                 present, so only the first run needs the network
#   SENDMAIL_PREFIX               an already unpacked prefix to use instead (no download)
#   DNSGUARD_TEST_REQUIRE_SENDMAIL=1
#                                 a missing Sendmail is an error, not a skip
#   H_SENDMAIL_DOMAINS            the domains delivered to $T/delivered (default "dest.test")
#   H_SENDMAIL_ROUTE_REMOTE=1     let Sendmail route mail for other domains itself (mailertable,
#                                 then the esmtp mailer) instead of catching it for
#                                 $T/delivered-remote: for the route tests
#   H_SENDMAIL_MC_EDIT            a sed script applied to the lines of conf/sendmail.mc before
#                                 they go into the .mc, for a test of what changing them does
#                                 ('/accept_unresolvable_domains/d', 's/R:20s/R:2s/'); default none
#   H_SENDMAIL_HOSTS_SERVICE      the service switch's "hosts" entry (default "files"); "dns files"
#                                 lets Sendmail's own lookups ask the server of /etc/resolv.conf,
#                                 port 53: only in a test with a network namespace of its own
#
# What h_start_sendmail sets up, and why:
#   - $T/sendmail/sendmail.mc -> sendmail.cf (m4 with the unpacked sendmail-cf).  OSTYPE(linux),
#     then every path under $T: queue $T/sendmail-queue (root, 0700), status and pid files, no
#     alias file.  Sendmail runs as root with -C: an alternate config makes Sendmail give up its
#     set-group-id privileges and run as the real user, here root, so a root-owned queue works
#     and no smmsp/mail user or /etc/mail tree is needed (sendmail-base's postinst never ran).
#     Run by anyone but root, that queue would be unwritable: the tests require root.
#   - DAEMON_OPTIONS(Port=$SENDMAIL_PORT, Addr=127.0.0.1, Name=MTA) and FEATURE(no_default_msa):
#     the default MSA would listen on port 587 of every address.
#   - No DNS at all: a service switch file saying "hosts files", so Sendmail's own host lookups
#     (client names, $j, sender domains) read only the bind-mounted /etc/hosts; the
#     harness's /etc/resolv.conf guard stays in place behind it.  The client's reverse name is
#     therefore never known to Sendmail: it passes "[127.0.0.10]" as the client name, which
#     dnsguard reads as "unknown", as from Postfix with smtpd_peername_lookup = no.
#   - Every line of conf/sendmail.mc that is not a comment, as shipped, with MILTER for its
#     socket: FEATURE(accept_unresolvable_domains), INPUT_MAIL_FILTER with F=T and the
#     recommended timeouts, the confMILTER_MACROS_* lines.  So the test proves the lines admins
#     copy.  Without accept_unresolvable_domains Sendmail would refuse, at MAIL FROM, every
#     sender whose domain its host lookup cannot resolve ("553 5.1.8 <a@b>... Domain of sender
#     address a@b does not exist"), and with "hosts files" that is every domain.
#   - A qualified host name: Sendmail runs in a UTS namespace of its own named
#     $H_SENDMAIL_HOSTNAME (mx.dnsguard.test), which the private /etc/hosts names too; with an
#     unqualified or unknown host name its startup waits 60 s ("My unqualified host name ...
#     unknown; sleeping for retry").
#   - Delivery, by rules in LOCAL_RULE_0 to a test mailer ($T/sendmail/deliver, run as root):
#     mail for any address at dest.test (or the domains of $H_SENDMAIL_DOMAINS) goes to
#     $T/delivered/new/, one file per message and recipient, headed "Delivered-To: user@dest.test" -- the layout of h_start_postfix, so
#     h_delivered_files and h_wait_for_delivery work for both MTAs.  Local recipients go to
#     $T/delivered-local/new/, every other domain to $T/delivered-remote/new/ (Delivered-To:
#     user@domain): nothing ever leaves the host, and a test can read what Sendmail sent out
#     (bounces, say).  With H_SENDMAIL_ROUTE_REMOTE=1 other domains are not caught: Sendmail's
#     own Parse1 routes them (mailertable, then esmtp; with "hosts files" and no DNS, only to
#     address literals reach anything).
#   - DontBlameSendmail=TrustStickyBit: $T is under /tmp, and Sendmail refuses a milter socket
#     (and warns about a mailer program) below a world-writable directory unless it trusts the
#     sticky bit ("local socket name ... unsafe: World writable directory", and no start at all).
#     A socket under /run/dnsguard, as README shows, needs nothing of the kind.
#   - Syslog: Sendmail logs through /dev/log, that is into $T/syslog once h_start_syslog ran
#     (LogLevel 12: milter replies are logged).  Its stdout and stderr: $T/sendmail.out.
#   - "sendmail -bD" in the foreground (no queue runs; delivery is at once, in the background),
#     stopped by the harness's cleanup before the milter, as Postfix is.  Ready in ~0.2 s.
#
# Also exports SMTP_PORT=$SENDMAIL_PORT, so h_swaks talks to this Sendmail (a test running both
# MTAs sets SMTP_PORT itself before each h_swaks).

H_SENDMAIL_HOSTNAME=${H_SENDMAIL_HOSTNAME:-mx.dnsguard.test}
SENDMAIL_BIN=""           # the unpacked sendmail binary (h_require_sendmail)
SENDMAIL_CF_DIR=""        # the unpacked sendmail-cf tree (.../cf)
_h_sendmail_packages="sendmail-bin sendmail-base sendmail-cf"

# _h_sendmail_unavailable REASON: skip the script, or bail out when CI requires Sendmail.
_h_sendmail_unavailable() {
    if [ "${DNSGUARD_TEST_REQUIRE_SENDMAIL:-0}" = 1 ]; then
        h_bail_out "Sendmail is required (DNSGUARD_TEST_REQUIRE_SENDMAIL=1) but: $*"
    fi
    h_skip_all "no Sendmail: $*"
}

# _h_sendmail_find PREFIX: set SENDMAIL_BIN and SENDMAIL_CF_DIR from an unpacked prefix.
# Debian 12 keeps the binaries in /usr/libexec/sendmail, older releases in /usr/lib/sm.bin.
_h_sendmail_find() {
    local prefix=$1 b
    SENDMAIL_BIN=""
    for b in "$prefix/usr/libexec/sendmail/sendmail" "$prefix/usr/lib/sm.bin/sendmail"; do
        if [ -x "$b" ] && [ ! -L "$b" ]; then
            SENDMAIL_BIN=$b
            break
        fi
    done
    SENDMAIL_CF_DIR=$prefix/usr/share/sendmail/cf
    [ -n "$SENDMAIL_BIN" ] && [ -f "$SENDMAIL_CF_DIR/m4/cf.m4" ]
}

# _h_sendmail_fetch CACHE: download the packages into CACHE/debs and unpack them into
# CACHE/root, unless a complete earlier unpacking is there (CACHE/root.done).  Serialised with
# flock: tests run in parallel.  Prints a reason and fails when that is impossible.
_h_sendmail_fetch() {
    local cache=$1 p deb
    mkdir -p "$cache/debs" 2>/dev/null || { echo "cannot create $cache"; return 1; }
    (
        flock -w 300 9 || { echo "timed out waiting for the lock on $cache"; exit 1; }
        [ -f "$cache/root.done" ] && exit 0
        cd "$cache/debs" || exit 1
        for p in $_h_sendmail_packages; do
            ls "${p}"_*.deb >/dev/null 2>&1 && continue
            # -o APT::Sandbox::User=root: _apt may not write into a root-only cache
            if ! apt-get download -q -o APT::Sandbox::User=root "$p" >"$cache/download.log" 2>&1; then
                echo "apt-get download $p failed (no network or no package lists?):" \
                    "$(tail -n 1 "$cache/download.log")"
                exit 1
            fi
        done
        rm -rf "$cache/root" "$cache/root.tmp"
        mkdir -p "$cache/root.tmp"
        for deb in "$cache"/debs/*.deb; do
            dpkg-deb -x "$deb" "$cache/root.tmp" || { echo "dpkg-deb -x $deb failed"; exit 1; }
        done
        mv "$cache/root.tmp" "$cache/root" && ls "$cache/debs" >"$cache/root.done"
    ) 9>>"$cache/lock"
}

# h_require_sendmail: make sure an unpacked Sendmail that can run is at hand (SENDMAIL_BIN,
# SENDMAIL_CF_DIR), fetching it on first use; skip the script (or bail out, see above) if not.
# Call it before the first test, as h_require_cmd.
h_require_sendmail() {
    local prefix cache reason missing
    [ -z "$SENDMAIL_BIN" ] || return 0
    h_require_cmd m4 flock unshare hostname
    if [ -n "${SENDMAIL_PREFIX:-}" ]; then
        prefix=$SENDMAIL_PREFIX
    else
        h_require_cmd apt-get dpkg-deb
        cache=${DNSGUARD_TEST_CACHE:-/var/cache/dnsguard-test}/sendmail
        reason=$(_h_sendmail_fetch "$cache") || _h_sendmail_unavailable "$reason"
        prefix=$cache/root
    fi
    _h_sendmail_find "$prefix" || _h_sendmail_unavailable "no sendmail binary or cf/m4/cf.m4 under $prefix"
    # the shared libraries are real packages (packaging/debian-build-deps)
    missing=$(ldd "$SENDMAIL_BIN" 2>/dev/null | awk '/not found/ { printf "%s ", $1 }')
    [ -z "$missing" ] || _h_sendmail_unavailable "$SENDMAIL_BIN lacks libraries: ${missing}(install" \
        "the Sendmail libraries of packaging/debian-build-deps)"
}

# _h_sendmail_mc MILTER PORT [MC-LINE...]: print the .mc of the test instance.
_h_sendmail_mc() {
    local milter=$1 port=$2 dir=$T/sendmail line domain shipped=${top_srcdir:?}/conf/sendmail.mc
    shift 2
    # m4 quotes are ` and '; $ is Sendmail's, not the shell's
    cat <<EOF
divert(-1)
# written by tests/lib/sendmail.sh for $T
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$H_SENDMAIL_HOSTNAME')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confHOSTS_FILE', \`/etc/hosts')dnl
define(\`QUEUE_DIR', \`$T/sendmail-queue')dnl
define(\`MSP_QUEUE_DIR', \`$T/sendmail-clientqueue')dnl
define(\`STATUS_FILE', \`$dir/sendmail.st')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confHELP_FILE', \`')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confAUTH_MECHANISMS', \`')dnl
define(\`confLOG_LEVEL', \`12')dnl
define(\`confDONT_BLAME_SENDMAIL', \`\`TrustStickyBit, RunProgramInUnsafeDirPath'')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$port, Addr=127.0.0.1')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
RELAY_DOMAIN(\`dest.test')dnl
EOF
    # the lines we ship, as an admin would paste them, with the test's socket (no filter at all
    # for an empty MILTER)
    sed -e '/^dnl/d' -e "s|S=unix:/run/dnsguard/milter\\.sock|S=$milter|" \
        -e "${H_SENDMAIL_MC_EDIT:-}" "$shipped" |
        if [ -n "$milter" ]; then cat; else grep -v '^INPUT_MAIL_FILTER'; fi
    for line in "$@"; do
        printf '%s\n' "$line"
    done
    # LOCAL_RULE_0 rules are "R" LHS <tab> RHS
    cat <<EOF
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mdnsguard_test, P=$dir/deliver, F=lsDFMnS, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, T=DNS/RFC822/SMTP, A=deliver $T/\$h \$u
LOCAL_RULE_0
EOF
    # The address keeps its focus ("user < @ domain . >"), or EnvToSMTP would append "@$j".
    # shellcheck disable=SC2016 # $ is Sendmail's
    for domain in ${H_SENDMAIL_DOMAINS:-dest.test}; do
        domain=$(printf '%s' "$domain" | sed 's/\./ . /g')
        # shellcheck disable=SC2016
        printf 'R%s\t%s\n' "\$+ < @ $domain \$* > \$*" "\$#dnsguard_test \$@ delivered \$: \$1 < @ $domain . >"
    done
    # shellcheck disable=SC2016
    printf 'R%s\t%s\n' '$+ < @ $=w . > $*' '$#dnsguard_test $@ delivered-local $: $1'
    # shellcheck disable=SC2016
    if [ "${H_SENDMAIL_ROUTE_REMOTE:-0}" = 1 ]; then
        # "$@": leave ParseLocal with the address as it is, for Parse1 (mailertable, esmtp)
        printf 'R%s\t%s\n' '$* < @ $+ > $*' '$@ $1 < @ $2 > $3'
    else
        printf 'R%s\t%s\n' \
            '$+ < @ $+ . > $*' '$#dnsguard_test $@ delivered-remote $: $1 < @ $2 . >' \
            '$+ < @ $+ > $*' '$#dnsguard_test $@ delivered-remote $: $1 < @ $2 . >'
    fi
    # shellcheck disable=SC2016
    printf 'R%s\t%s\n' '$+' '$#dnsguard_test $@ delivered-local $: $1'
}

# h_start_sendmail MILTER [MC-LINE...]: see the top of this file.  Exports SENDMAIL_PORT,
# SMTP_PORT, SENDMAIL_PID, SENDMAIL_CF.
h_start_sendmail() {
    local milter=${1-} dir d
    [ $# -gt 0 ] && shift
    [ -n "$T" ] || h_bail_out "h_start_sendmail before h_init"
    h_in_private_ns || {
        h_diag "h_start_sendmail: not in a private mount namespace (call h_enter_namespace)"
        return 1
    }
    h_require_sendmail
    dir=$T/sendmail
    mkdir -p "$dir" "$T/sendmail-clientqueue"
    mkdir -p "$T/sendmail-queue" && chmod 0700 "$T/sendmail-queue"
    for d in delivered delivered-local delivered-remote; do
        mkdir -p "$T/$d/new" "$T/$d/tmp"
    done
    : >"$dir/sendmail.st"
    printf 'hosts\t%s\naliases\tfiles\n' "${H_SENDMAIL_HOSTS_SERVICE:-files}" >"$dir/service.switch"
    printf '127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost\n' "$H_SENDMAIL_HOSTNAME" >"$dir/hosts"
    # the test mailer: one file per message and recipient, written whole, then moved into new/
    cat >"$dir/deliver" <<'EOF'
#!/bin/sh
# deliver DIR RECIPIENT: the message on stdin into DIR/new/ as one file (see sendmail.sh)
set -e
tmp=$1/tmp/$(date +%s.%N).$$
{ printf 'Delivered-To: %s\n' "$2"; cat; } >"$tmp"
mv "$tmp" "$1/new/"
EOF
    chmod 0755 "$dir/deliver"
    # the host name must resolve (files only) for every process of the namespace that asks
    if ! grep -q "[[:space:]]$H_SENDMAIL_HOSTNAME\([[:space:]]\|$\)" /etc/hosts; then
        _h_bind_mount "$dir/hosts" /etc/hosts || {
            h_diag "h_start_sendmail: cannot bind-mount a private /etc/hosts"
            return 1
        }
    fi

    SENDMAIL_PORT=$(h_port) || return 1
    _h_sendmail_mc "$milter" "$SENDMAIL_PORT" "$@" >"$dir/sendmail.mc"
    if [ -n "$milter" ] && ! grep -qF "S=$milter," "$dir/sendmail.mc"; then
        h_diag "h_start_sendmail: conf/sendmail.mc's INPUT_MAIL_FILTER no longer names" \
            "S=unix:/run/dnsguard/milter.sock, which the test replaces with S=$milter"
        return 1
    fi
    SENDMAIL_CF=$dir/sendmail.cf
    # cf.m4 reports a bad .mc on stderr, often with status 0
    if ! m4 "$SENDMAIL_CF_DIR/m4/cf.m4" "$dir/sendmail.mc" >"$SENDMAIL_CF" 2>"$dir/m4.err" ||
        [ -s "$dir/m4.err" ]; then
        h_diag "h_start_sendmail: m4 failed on $dir/sendmail.mc:" "$(cat "$dir/m4.err")"
        return 1
    fi
    # $T is m4 text in the .mc: a word of it that names an m4 macro ("divert", say, from a test
    # named "...-divert") is expanded, and the paths are silently wrong
    if ! grep -qxF "O QueueDirectory=$T/sendmail-queue" "$SENDMAIL_CF"; then
        h_diag "h_start_sendmail: m4 changed the path $T (does a word of it name an m4 macro?" \
            "choose another name for h_init)"
        return 1
    fi

    # A UTS namespace of its own for the host name; -bD: the daemon in the foreground.
    # shellcheck disable=SC2016 # sh's own arguments
    _h_spawn_bg sendmail unshare --uts -- sh -c 'hostname "$1" && shift && exec "$@"' sh \
        "$H_SENDMAIL_HOSTNAME" "$SENDMAIL_BIN" -C "$SENDMAIL_CF" -bD
    SENDMAIL_PID=$H_PID
    _h_mta_pids+=("$SENDMAIL_PID")
    SMTP_PORT=$SENDMAIL_PORT
    export SENDMAIL_PORT SMTP_PORT SENDMAIL_PID SENDMAIL_CF
    # a config Sendmail refuses (e.g. an unsafe milter socket path) ends it at once
    { h_wait_tcp "$SENDMAIL_PORT" 15 "$SENDMAIL_PID" && _h_wait_banner "$SENDMAIL_PORT" 5; } || {
        h_diag "Sendmail did not answer on 127.0.0.1:$SENDMAIL_PORT"
        h_dump_file "$T/sendmail.out" 20
        h_dump_file "$T/syslog" 20
        return 1
    }
}

# h_stop_sendmail: see the top of this file.  The harness's cleanup stops a Sendmail still running.
h_stop_sendmail() {
    local pid keep=()
    [ -n "${SENDMAIL_PID:-}" ] || return 0
    _h_stop_groups 10 "$SENDMAIL_PID"
    for pid in "${_h_mta_pids[@]}"; do
        [ "$pid" = "$SENDMAIL_PID" ] || keep+=("$pid")
    done
    _h_mta_pids=("${keep[@]}")
    SENDMAIL_PID=""
}

# h_sendmail_queue_id: the queue id Sendmail gave the message of the last transcript.
h_sendmail_queue_id() {
    h_smtp_reply_to DOT | sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' | grep .
}

# h_sendmail_wrapper FILE: see the top of this file.
h_sendmail_wrapper() {
    [ -n "${SENDMAIL_CF:-}" ] || h_bail_out "h_sendmail_wrapper before h_start_sendmail"
    cat >"$1" <<EOF
#!/bin/sh
# sendmail(1) of the test's Sendmail (tests/lib/sendmail.sh, h_sendmail_wrapper)
exec $(command -v unshare) --uts -- /bin/sh -c '$(command -v hostname) "\$1" && shift && exec "\$@"' sh \\
    '$H_SENDMAIL_HOSTNAME' '$SENDMAIL_BIN' -C '$SENDMAIL_CF' "\$@"
EOF
    chmod 0755 "$1"
}

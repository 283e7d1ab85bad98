# tests/lib/harness.sh -- shared library for the dnsguard integration tests.
#
# Sourced (not executed) by the TAP test scripts in tests/integration/.
# It starts everything a test needs on loopback, in a private temporary
# directory $T, and stops all of it again when the script exits, fails or is
# killed (INT, TERM, HUP):
#
#   syslog catcher   /dev/log -> $T/syslog   (libmilter logs only to syslog)
#   NSD              authoritative DNS for tests/zones on 127.0.0.1:$DNS_PORT
#   Postfix          a private instance, smtpd on 127.0.0.1:$SMTP_PORT,
#                    mail for dest.test kept as files under $T/delivered
#   Sendmail         the same for Sendmail 8.17: h_start_sendmail, in
#                    tests/lib/sendmail.sh (sourced after this file)
#
# Typical test script:
#
#   #!/bin/bash
#   : "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
#   . "$top_srcdir/tests/lib/harness.sh"
#   h_require_root
#   h_require_cmd nsd postfix swaks drill
#   h_enter_namespace "$@"        # re-execs the script in a mount namespace
#   h_init mytest
#   h_start_syslog
#   h_start_nsd "$top_srcdir/tests/zones"
#   h_spawn dnsguard "$top_builddir/milter/dnsguard" ... ; DG_PID=$H_PID
#   h_start_postfix "unix:$T/dnsguard.sock"
#   h_swaks --from a@ok.test --to u@dest.test; h_ok $? "accepted"
#   h_done
#
# Safety: everything talks to 127.0.0.0/8 only.  Inside the namespace that
# h_enter_namespace creates, h_init also bind-mounts a private resolv.conf
# ("nameserver 127.0.0.1") over /etc/resolv.conf, so even a stray libc
# lookup can never reach the off-loopback resolver of the host.  Nothing
# outside the namespace is changed, except that h_start_syslog may create an
# empty /dev/log file as a mount point (see there).
#
# Public functions (all prefixed h_):
#   TAP:        h_plan N, h_done, h_ok STATUS DESC, h_is GOT EXP DESC,
#               h_like GOT ERE DESC, h_skip DESC REASON, h_diag TEXT...,
#               h_skip_all REASON, h_bail_out REASON
#   Preflight:  h_require_root, h_require_cmd CMD..., h_enter_namespace "$@",
#               h_in_private_ns
#   Setup:      h_init NAME, h_port, h_spawn NAME CMD..., h_kill PID
#   Services:   h_start_syslog, h_start_nsd [ZONEDIR], h_drill ARGS...,
#               h_start_responder [-T] [-r SUFFIX=ACTION]...,
#               h_start_postfix MILTER [param=value ...], h_postfix_reload
#   SMTP:       h_swaks ARGS..., h_last_reply_matching ERE,
#               h_smtp_reply_to STAGE, h_queue_id
#   Waiting:    h_wait_for_log FILE ERE [TIMEOUT_S],
#               h_wait_tcp PORT [TIMEOUT_S] [PID],
#               h_wait_for_socket PATH [TIMEOUT_S],
#               h_wait_for_delivery [RCPT] [COUNT] [TIMEOUT_S],
#               h_delivered_files [RCPT], h_dump_file FILE [LINES]
#
# Environment it reads:
#   top_srcdir, top_builddir  tree locations (default: two levels above this
#                             file; builddir defaults to srcdir)
#   DNSGUARD_BUILDDIR         where tests/tools/syslog-catcher was built
#                             (default $top_builddir)
#   SYSLOG_CATCHER            explicit path of the syslog-catcher binary
#   KEEP_TMP=1                keep $T after the test (its path is printed)
#   H_DUMP_LINES              log lines shown as TAP diagnostics when a test
#                             failed (default 40, 0 = none)
#   TMPDIR                    parent of $T (default /tmp); keep it short:
#                             unix socket paths are limited to 107 bytes

# Sourcing twice is harmless.
if [ -n "${_H_SOURCED:-}" ]; then
    return 0
fi
_H_SOURCED=1

set -u

# Daemons live in sbin; a non-login root shell may not have it in PATH.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;;
esac

# --- tree locations -----------------------------------------------------------

_h_libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$_h_libdir/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${srcdir:=$top_srcdir/tests/integration}"
export top_srcdir top_builddir srcdir

# Default test zones.
H_ZONEDIR=$top_srcdir/tests/zones

# --- internal state -----------------------------------------------------------

T=""                    # the test's temporary directory (h_init)
_h_ntests=0             # TAP: tests run so far
_h_nfailed=0            # TAP: tests that failed
_h_planned=""           # TAP: N from h_plan, empty if none yet
_h_pids=()              # process-group leaders started by h_spawn
_h_pid_names=()         # their names (parallel to _h_pids)
_h_syslog_pid=""        # the syslog catcher: stopped last
_h_mounts=()            # mount points to unmount, in mount order
_h_postfix_dirs=()      # Postfix config dirs to "postfix stop"
_h_mta_pids=()          # other MTAs' process groups (Sendmail): stopped with Postfix
_h_fg_pid=""            # a foreground client (swaks) running right now
_h_cleaned=""           # cleanup ran
_h_swaks_n=0            # counter for the kept swaks transcripts
H_PID=""                # pid of the last h_spawn
# GNU env >= 8.31 can reset signal dispositions (see _h_spawn_bg).
_h_env_default_signal=""
env --default-signal true 2>/dev/null && _h_env_default_signal=1

# Deadlines use bash 5's EPOCHREALTIME (microseconds), falling back to
# SECONDS.  _h_now_ms prints a monotonic-enough millisecond clock.
_h_now_ms() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/[.,]/}
        echo $((10#$t / 1000))
    else
        echo $((SECONDS * 1000))
    fi
}

# --- TAP ----------------------------------------------------------------------

# h_diag TEXT...: print each TEXT (which may span lines) as TAP
# diagnostics, "# " before every line.
h_diag() {
    local arg line
    for arg in "$@"; do
        while IFS= read -r line; do
            printf '# %s\n' "$line"
        done <<<"$arg"
    done
}

# h_plan N: announce the number of tests up front (optional, see h_done).
h_plan() {
    _h_planned=$1
    printf '1..%s\n' "$1"
}

# TAP treats '#' in a description as the start of a directive: escape it.
_h_tap_desc() {
    local d=${1//\\/\\\\}
    printf '%s' "${d//#/\\#}"
}

# h_ok STATUS DESCRIPTION: "ok" if STATUS is 0, e.g.  cmd; h_ok $? "cmd works"
h_ok() {
    local status=$1 desc=${2:-}
    _h_ntests=$((_h_ntests + 1))
    if [ "$status" = 0 ]; then
        printf 'ok %d - %s\n' "$_h_ntests" "$(_h_tap_desc "$desc")"
        return 0
    fi
    _h_nfailed=$((_h_nfailed + 1))
    printf 'not ok %d - %s\n' "$_h_ntests" "$(_h_tap_desc "$desc")"
    h_diag "failed (status $status) at $(_h_caller)"
    return 1
}

# Print "FILE line N" of the innermost caller outside this library.
_h_caller() {
    local i
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        if [ "${BASH_SOURCE[i]}" != "${BASH_SOURCE[0]}" ]; then
            printf '%s line %s' "${BASH_SOURCE[i]}" "${BASH_LINENO[i - 1]}"
            return
        fi
    done
    printf '?'
}

# h_is GOT EXPECTED DESCRIPTION: string equality.
h_is() {
    if [ "$1" = "$2" ]; then
        h_ok 0 "$3"
    else
        h_ok 1 "$3"
        h_diag "     got: '$1'" "expected: '$2'"
        return 1
    fi
}

# h_like GOT ERE DESCRIPTION: GOT (any line of it, if several) matches the
# extended regular expression.
h_like() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        h_ok 0 "$3"
    else
        h_ok 1 "$3"
        h_diag "     got: '$1'" "expected to match: $2"
        return 1
    fi
}

# h_skip DESCRIPTION REASON: a test that was not run.
h_skip() {
    _h_ntests=$((_h_ntests + 1))
    printf 'ok %d - %s # SKIP %s\n' "$_h_ntests" "$(_h_tap_desc "$1")" "${2:-}"
}

# h_skip_all REASON: skip the whole script (only before the first test).
h_skip_all() {
    printf '1..0 # SKIP %s\n' "$*"
    exit 0
}

# h_bail_out REASON: abort the whole run (setup failed).  Cleanup still runs.
h_bail_out() {
    printf 'Bail out! %s\n' "$*"
    _h_nfailed=$((_h_nfailed + 1))
    exit 99
}

# h_done: end of script.  Prints the plan if h_plan was not used, checks a
# given plan, and exits 0 only if every test passed.
h_done() {
    if [ -z "$_h_planned" ]; then
        printf '1..%d\n' "$_h_ntests"
    elif [ "$_h_planned" != "$_h_ntests" ]; then
        h_diag "planned $_h_planned tests but ran $_h_ntests"
        _h_nfailed=$((_h_nfailed + 1))
    fi
    [ "$_h_nfailed" -eq 0 ] && exit 0
    exit 1
}

# --- preflight ----------------------------------------------------------------

# h_require_root: skip the script unless running as root.
h_require_root() {
    [ "$(id -u)" = 0 ] || h_skip_all "needs root (mount namespace, Postfix)"
}

# h_require_cmd CMD...: skip the script unless every CMD is in PATH.
h_require_cmd() {
    local c missing=()
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [ ${#missing[@]} -eq 0 ] || h_skip_all "missing: ${missing[*]}"
}

# h_enter_namespace "$@": call at the top of a test script, before h_init.
# Re-executes the script under "unshare --mount --propagation private" so
# that the bind mounts made by the harness (/dev/log, /etc/resolv.conf) are
# seen only by this script and the processes it starts, and vanish with it.
# DNSGUARD_TEST_NS marks the re-executed script; it ends up holding the
# namespace's id so that h_in_private_ns can check it really is private.
h_enter_namespace() {
    if [ -n "${DNSGUARD_TEST_NS:-}" ]; then
        if [ "$DNSGUARD_TEST_NS" = pending ]; then
            DNSGUARD_TEST_NS=$(readlink /proc/self/ns/mnt)
            export DNSGUARD_TEST_NS
        fi
        return 0
    fi
    h_require_root
    h_require_cmd unshare mount umount
    # Probe first: a failed exec would leave no TAP output at all.
    unshare --mount --propagation private true 2>/dev/null ||
        h_skip_all "cannot create a mount namespace (unshare --mount failed)"
    export DNSGUARD_TEST_NS=pending
    exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
}

# h_in_private_ns: true if this process runs in the namespace that
# h_enter_namespace created (so bind mounts cannot affect the host).
h_in_private_ns() {
    [ -n "${DNSGUARD_TEST_NS:-}" ] && [ "$DNSGUARD_TEST_NS" != pending ] &&
        [ "$(readlink /proc/self/ns/mnt)" = "$DNSGUARD_TEST_NS" ] &&
        [ "$DNSGUARD_TEST_NS" != "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]
}

# --- setup and cleanup ---------------------------------------------------------

# h_init NAME: create $T, install the cleanup trap, and (inside the private
# namespace) shadow /etc/resolv.conf with a loopback-only one.
h_init() {
    local name=${1:-test}
    [ -z "$T" ] || h_bail_out "h_init called twice"
    T=$(mktemp -d "${TMPDIR:-/tmp}/dnsguard-$name.XXXXXX") ||
        h_bail_out "mktemp -d failed"
    # Unprivileged daemons (postfix) must reach sockets and dirs in $T.
    chmod 0755 "$T"
    export T
    # sockaddr_un holds 107 bytes; leave room for names below $T.
    [ ${#T} -le 60 ] || h_diag "warning: \$T is long (${#T} bytes); unix socket paths below it may not fit"

    trap '_h_exit_trap' EXIT
    trap '_h_signal_trap 1' HUP
    trap '_h_signal_trap 2' INT
    trap '_h_signal_trap 15' TERM

    if h_in_private_ns; then
        # Safety net: a libc lookup (getaddrinfo, res_query, ub_ctx_resolvconf)
        # in anything started by this test must not reach the host's
        # off-loopback resolver.  Port 53 on 127.0.0.1 is normally closed,
        # so such lookups fail at once.
        printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
        _h_bind_mount "$T/resolv.conf" /etc/resolv.conf ||
            h_bail_out "cannot bind-mount a private /etc/resolv.conf"
    else
        h_diag "not in a private mount namespace (h_enter_namespace not called):" \
            "no /etc/resolv.conf guard, h_start_syslog will refuse to run"
    fi
}

_h_bind_mount() {
    mount --bind "$1" "$2" || return 1
    _h_mounts+=("$2")
}

_h_signal_trap() {
    # Exit with the conventional status; the EXIT trap does the cleanup.
    exit $((128 + $1))
}

_h_exit_trap() {
    local rc=$?
    _h_cleanup "$rc"
    exit "$rc"
}

# Is process PID, or any process of the group PID leads, left?
_h_group_alive() {
    kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null
}

# _h_stop_groups SIG_TIMEOUT_S PID...: TERM each process group, wait for all
# of them together (bounded), then KILL what is left.
_h_stop_groups() {
    local timeout=$1 pid left deadline
    shift
    [ $# -gt 0 ] || return 0
    for pid in "$@"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    done
    deadline=$(($(_h_now_ms) + timeout * 1000))
    while :; do
        left=()
        for pid in "$@"; do
            _h_group_alive "$pid" && left+=("$pid")
        done
        [ ${#left[@]} -eq 0 ] && break
        if [ "$(_h_now_ms)" -ge "$deadline" ]; then
            for pid in "${left[@]}"; do
                h_diag "process group $pid did not stop within ${timeout}s: SIGKILL"
                kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
            done
            break
        fi
        sleep 0.05
    done
    # Reap our own children quietly (no "Terminated" noise from bash).
    for pid in "$@"; do
        wait "$pid" 2>/dev/null
    done
    return 0
}

# _h_postfix_stop_request DIR: "postfix stop" one private instance and
# print its master's pid (empty if none was running).  The master is a
# session leader (pid = pgid = sid) and its daemons are in its group.
_h_postfix_stop_request() {
    local dir=$1 qdir pid
    qdir=$(postconf -c "$dir" -h queue_directory 2>/dev/null) || return 0
    pid=$(tr -dc '0-9' 2>/dev/null <"$qdir/pid/master.pid")
    postfix -c "$dir" stop >>"$T/postfix-stop.log" 2>&1
    [ -n "$pid" ] && printf '%s\n' "$pid"
    return 0
}

_h_cleanup() {
    local rc=${1:-0} i dir pid mypgid masters
    [ -z "$_h_cleaned" ] || return 0
    _h_cleaned=1
    trap '' HUP INT TERM
    [ -n "$T" ] || return 0
    # never signal the test script's own process group by mistake
    mypgid=$(ps -o pgid= -p $$ | tr -d ' ')

    # 1. a client still running (the script was interrupted during h_swaks)
    if [ -n "$_h_fg_pid" ]; then
        kill -TERM "$_h_fg_pid" 2>/dev/null
        wait "$_h_fg_pid" 2>/dev/null
    fi
    # 2. the MTAs first (they are the milter's clients): ask every Postfix
    #    master to stop (that takes ~1 s), remembering the masters' pids,
    #    and every other MTA (tests/lib/sendmail.sh) its SIGTERM
    masters=()
    for dir in "${_h_postfix_dirs[@]}"; do
        pid=$(_h_postfix_stop_request "$dir")
        [ -z "$pid" ] || [ "$pid" = "$mypgid" ] || masters+=("$pid")
    done
    for pid in "${_h_mta_pids[@]}"; do
        [ "$pid" = "$mypgid" ] && continue
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        masters+=("$pid")
    done
    # 3. then everything from h_spawn (milter, NSD, ...) in parallel with
    #    the masters' shutdown; wait for all of them together.  libmilter
    #    takes ~4 s and NSD ~1.2 s to exit on SIGTERM: SIGKILL after 8 s.
    #    (A stopping master gets SIGTERM again: harmless.)
    _h_stop_groups 8 "${masters[@]}" "${_h_pids[@]}"
    # 4. background jobs the script started itself ("cmd &"), if any are
    #    left: they are its direct children, so bash knows them
    for pid in $(jobs -p); do
        [ "$pid" = "$_h_syslog_pid" ] && continue
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    # 5. the syslog catcher last, so that it sees the others' last words
    [ -z "$_h_syslog_pid" ] || _h_stop_groups 3 "$_h_syslog_pid"
    # 6. unmount in reverse order (they would vanish with the namespace
    #    anyway, but a script run without h_enter_namespace needs it)
    for ((i = ${#_h_mounts[@]} - 1; i >= 0; i--)); do
        umount "${_h_mounts[i]}" 2>/dev/null || umount -l "${_h_mounts[i]}" 2>/dev/null ||
            h_diag "could not unmount ${_h_mounts[i]}"
    done

    if [ "$_h_nfailed" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; }; then
        _h_dump_logs
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        h_diag "KEEP_TMP=1: test files kept in $T"
    else
        rm -rf -- "$T"
    fi
}

# h_dump_file FILE [LINES]: show the last LINES lines of FILE as diagnostics.
h_dump_file() {
    local f=$1 n=${2:-${H_DUMP_LINES:-40}}
    [ "$n" -gt 0 ] && [ -s "$f" ] || return 0
    h_diag "---- last $n lines of ${f#"$T"/} ----"
    h_diag "$(tail -n "$n" -- "$f")"
}

_h_dump_logs() {
    local f
    for f in "$T/syslog" "$T/maillog" "$T/nsd/nsd.log" "$T"/*.out; do
        case $f in */swaks.[0-9]*.out) continue ;; esac # swaks.out is the last
        [ -e "$f" ] && h_dump_file "$f"
    done
}

# --- processes and ports ------------------------------------------------------

# h_spawn NAME CMD [ARGS...]: start CMD in the background in a process group
# of its own, stdout+stderr to $T/NAME.out, stdin from /dev/null.  Sets
# H_PID (do not call it in $(...): the pid would not be tracked).  The whole
# group is stopped by the cleanup trap, or earlier by h_kill.
h_spawn() {
    _h_spawn_bg "$@"
    _h_pids+=("$H_PID")
    _h_pid_names+=("$1")
    return 0
}

# _h_spawn_bg NAME CMD...: h_spawn without registering the process for the
# cleanup (the caller does that).
_h_spawn_bg() {
    local name=$1 i
    shift
    [ -n "$T" ] || h_bail_out "h_spawn before h_init"
    # With job control on, the background job would already lead a group,
    # setsid(1) would fork, and $! would not be the daemon.
    case $- in *m*) h_bail_out "h_spawn: job control (set -m) must be off" ;; esac
    # A non-interactive bash starts background jobs with SIGINT and SIGQUIT
    # ignored, and libmilter (SIGINT = abort) or a test that signals a
    # daemon must not inherit that: env --default-signal resets them all.
    if [ -n "$_h_env_default_signal" ]; then
        setsid env --default-signal "$@" >"$T/$name.out" 2>&1 </dev/null &
    else
        setsid "$@" >"$T/$name.out" 2>&1 </dev/null &
    fi
    H_PID=$!
    # Wait (briefly) until setsid(2) took effect, so that a kill of the
    # group cannot hit the test script's own group.
    for ((i = 0; i < 100; i++)); do
        [ "$(ps -o pgid= -p "$H_PID" 2>/dev/null | tr -d ' ')" = "$H_PID" ] && break
        kill -0 "$H_PID" 2>/dev/null || break
        sleep 0.01
    done
    return 0
}

# h_kill PID [TIMEOUT_S]: stop one h_spawn'ed process group now (TERM, then
# KILL after TIMEOUT_S, default 8) and forget it.
h_kill() {
    local pid=$1 i
    _h_stop_groups "${2:-8}" "$pid"
    for i in "${!_h_pids[@]}"; do
        if [ "${_h_pids[i]}" = "$pid" ]; then
            unset '_h_pids[i]' '_h_pid_names[i]'
        fi
    done
    _h_pids=("${_h_pids[@]}")
    _h_pid_names=("${_h_pid_names[@]}")
}

# Is loopback port $1 in use for TCP or UDP, or already handed out?
_h_port_taken() {
    local p=$1
    [ -f "$T/.ports" ] && grep -qx "$p" "$T/.ports" && return 0
    ss -Htuan 2>/dev/null | awk -v p="$p" '
        { n = split($5, a, ":"); if (a[n] == p) found = 1 }
        END { exit !found }'
}

# h_port: print a loopback port free for both TCP and UDP.  It is outside
# the kernel's ephemeral range (so no outgoing connection grabs it before
# the daemon binds it) and never handed out twice within one test.
h_port() {
    local lo=32768 hi=60999 p i
    read -r lo hi 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range
    for ((i = 0; i < 500; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
        [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ] && continue
        _h_port_taken "$p" && continue
        [ -n "$T" ] && echo "$p" >>"$T/.ports"
        echo "$p"
        return 0
    done
    echo "h_port: no free port found" >&2
    return 1
}

# h_wait_tcp PORT [TIMEOUT_S] [PID]: wait until 127.0.0.1:PORT accepts TCP
# connections (default 10 s).  If PID is given, give up as soon as it died.
h_wait_tcp() {
    local port=$1 timeout=${2:-10} pid=${3:-} deadline
    deadline=$(($(_h_now_ms) + timeout * 1000))
    while [ "$(_h_now_ms)" -lt "$deadline" ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.05
    done
    return 1
}

# h_wait_for_log FILE ERE [TIMEOUT_S]: wait until FILE has a line matching
# the extended regular expression (default 10 s).  Non-zero on timeout.
h_wait_for_log() {
    local file=$1 re=$2 timeout=${3:-10} deadline
    deadline=$(($(_h_now_ms) + timeout * 1000))
    while :; do
        [ -f "$file" ] && grep -Eq -- "$re" "$file" && return 0
        [ "$(_h_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# --- syslog -------------------------------------------------------------------

# Print the path of the syslog-catcher binary; build it into $T from the
# source if the build tree does not have it (e.g. running from a checkout).
_h_syslog_catcher_bin() {
    local bin src
    if [ -n "${SYSLOG_CATCHER:-}" ]; then
        echo "$SYSLOG_CATCHER"
        return 0
    fi
    bin=${DNSGUARD_BUILDDIR:-$top_builddir}/tests/tools/syslog-catcher
    if [ -x "$bin" ]; then
        echo "$bin"
        return 0
    fi
    src=$top_srcdir/tests/tools/syslog-catcher.c
    if [ -f "$src" ] && command -v "${CC:-cc}" >/dev/null 2>&1 &&
        "${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -o "$T/syslog-catcher" "$src" \
            >"$T/syslog-catcher.build.log" 2>&1; then
        echo "$T/syslog-catcher"
        return 0
    fi
    return 1
}

# h_start_syslog: start the syslog catcher and bind-mount its socket onto
# /dev/log (private namespace only), so that syslog(3) of every process this
# test starts -- libmilter above all -- ends up as lines in $T/syslog.
# Verified with logger(1).  A real syslog daemon's /dev/log, if any, is just
# shadowed inside the namespace.
h_start_syslog() {
    local catcher tag
    [ -n "$T" ] || h_bail_out "h_start_syslog before h_init"
    if ! h_in_private_ns; then
        h_diag "h_start_syslog: not in a private mount namespace; refusing to" \
            "bind-mount /dev/log of the whole machine (call h_enter_namespace)"
        return 1
    fi
    catcher=$(_h_syslog_catcher_bin) || {
        h_diag "h_start_syslog: no syslog-catcher binary (build tests/tools first" \
            "or set SYSLOG_CATCHER)"
        return 1
    }
    : >"$T/syslog"
    _h_spawn_bg syslog-catcher "$catcher" "$T/syslog.sock" "$T/syslog"
    _h_syslog_pid=$H_PID
    h_wait_for_socket "$T/syslog.sock" 5 || {
        h_diag "h_start_syslog: catcher did not create $T/syslog.sock"
        return 1
    }
    # A bind mount needs an existing mount point.  Without a syslog daemon
    # there is no /dev/log, so create an empty regular file there.  /dev is
    # shared with the host: this file stays behind after the test (it is
    # harmless -- syslog(3) fails on it exactly as on a missing /dev/log --
    # and removing it could detach the mount of a test running in parallel).
    if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
        : >/dev/log || { h_diag "cannot create /dev/log mount point"; return 1; }
    fi
    _h_bind_mount "$T/syslog.sock" /dev/log || {
        h_diag "h_start_syslog: bind mount onto /dev/log failed"
        return 1
    }
    tag="dnsguard-harness"
    logger -t "$tag" "syslog catcher ready pid=$$" 2>>"$T/syslog-catcher.out"
    h_wait_for_log "$T/syslog" "$tag.*syslog catcher ready pid=$$" 5 || {
        h_diag "h_start_syslog: a logger(1) line did not reach $T/syslog"
        return 1
    }
}

# h_wait_for_socket PATH [TIMEOUT_S]: wait until PATH is a socket (default 10 s).
h_wait_for_socket() {
    local path=$1 timeout=${2:-10} deadline
    deadline=$(($(_h_now_ms) + timeout * 1000))
    until [ -S "$path" ]; do
        [ "$(_h_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

# --- DNS ----------------------------------------------------------------------

# h_start_nsd [ZONEDIR]: serve every ZONEDIR/*.zone (default tests/zones)
# with NSD on 127.0.0.1:$DNS_PORT, UDP and TCP; zone name = file name minus
# ".zone".  Listens on 127.0.0.1 and ::1, port DNS_PORT (exported, with
# NSD_PID).  Log: $T/nsd/nsd.log.
h_start_nsd() {
    local zonedir=${1:-$H_ZONEDIR} conf z name n=0
    [ -n "$T" ] || h_bail_out "h_start_nsd before h_init"
    zonedir=$(cd "$zonedir" && pwd) || return 1
    mkdir -p "$T/nsd"
    conf=$T/nsd/nsd.conf
    DNS_PORT=$(h_port) || return 1
    {
        cat <<EOF
# generated by tests/lib/harness.sh
server:
    ip-address: 127.0.0.1
    ip-address: ::1
    port: $DNS_PORT
    do-ip4: yes
    do-ip6: yes
    reuseport: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$zonedir"
    pidfile: "$T/nsd/nsd.pid"
    zonelistfile: "$T/nsd/zone.list"
    xfrdfile: "$T/nsd/xfrd.state"
    xfrdir: "$T/nsd"
    logfile: "$T/nsd/nsd.log"
    verbosity: 2
    hide-version: yes
    refuse-any: no
    # Debian's NSD limits answers to 200/s per /24 and answer kind (all NODATA answers of a zone
    # are one kind): tests and benchmarks ask faster than that from 127.0.0.1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
EOF
        for z in "$zonedir"/*.zone; do
            [ -f "$z" ] || continue
            name=$(basename "$z" .zone)
            printf 'zone:\n    name: "%s."\n    zonefile: "%s"\n' "$name" "$z"
            n=$((n + 1))
        done
    } >"$conf"
    if [ "$n" -eq 0 ]; then
        h_diag "h_start_nsd: no *.zone files in $zonedir"
        return 1
    fi
    nsd-checkconf "$conf" >"$T/nsd/checkconf.out" 2>&1 || {
        h_diag "nsd-checkconf failed:" "$(cat "$T/nsd/checkconf.out")"
        return 1
    }
    h_spawn nsd nsd -d -c "$conf"
    NSD_PID=$H_PID
    # A query sent before NSD listens waits out drill's 5 s timeout; the TCP
    # port opening is the reliable readiness signal.
    h_wait_tcp "$DNS_PORT" 10 "$NSD_PID" || {
        h_diag "NSD did not start listening on 127.0.0.1:$DNS_PORT"
        h_dump_file "$T/nsd.out" 20
        h_dump_file "$T/nsd/nsd.log" 20
        return 1
    }
    h_drill ok.test MX | grep -Eq '^ok\.test\.[[:space:]].*MX[[:space:]]+10 mx\.ok\.test\.' || {
        h_diag "NSD listens but does not answer ok.test MX"
        return 1
    }
    export DNS_PORT NSD_PID
}

# h_drill ARGS...: drill against the test NSD only (never the system resolver).
h_drill() {
    drill -p "$DNS_PORT" "$@" @127.0.0.1
}

# h_start_responder [-T] [-r SUFFIX=ACTION]...: start the fault-injecting DNS
# responder (tests/tools/dns-responder.c; the actions are listed there) on
# 127.0.0.1:$RESPONDER_PORT, UDP and TCP (-T: no TCP), in front of the NSD
# of h_start_nsd, which it proxies every query to that no rule changes.
# Waits for its "ready" line.  Sets RESPONDER_PORT, RESPONDER_PID and
# RESPONDER_LOG (its output: one "TRANSPORT QNAME QTYPE ACTION" line per
# query).  May be called more than once; every call starts a new responder.
h_start_responder() {
    local bin deadline name
    [ -n "$T" ] || h_bail_out "h_start_responder before h_init"
    [ -n "${DNS_PORT:-}" ] || h_bail_out "h_start_responder before h_start_nsd"
    bin=${DNSGUARD_BUILDDIR:-$top_builddir}/tests/tools/dns-responder
    [ -x "$bin" ] || {
        h_diag "h_start_responder: $bin not built (make tests/tools/dns-responder)"
        return 1
    }
    _h_responder_n=$((${_h_responder_n:-0} + 1))
    name=responder.$_h_responder_n
    RESPONDER_PORT=$(h_port) || return 1
    RESPONDER_LOG=$T/$name.out
    h_spawn "$name" "$bin" -l "127.0.0.1@$RESPONDER_PORT" -u "127.0.0.1@$DNS_PORT" "$@"
    RESPONDER_PID=$H_PID
    export RESPONDER_PORT RESPONDER_PID RESPONDER_LOG
    deadline=$(($(_h_now_ms) + 5000))
    until grep -qx ready "$RESPONDER_LOG" 2>/dev/null; do
        if ! kill -0 "$RESPONDER_PID" 2>/dev/null || [ "$(_h_now_ms)" -ge "$deadline" ]; then
            h_diag "h_start_responder: dns-responder $* did not become ready"
            h_dump_file "$RESPONDER_LOG" 20
            return 1
        fi
        sleep 0.02
    done
}

# --- Postfix ------------------------------------------------------------------

# h_start_postfix MILTER [param=value ...]: start a private Postfix instance
# (config $T/postfix, queue $T/postfix-spool, data $T/postfix-data, log
# $T/maillog) whose only smtpd listens on 127.0.0.1:$SMTP_PORT and calls
# the milter MILTER ("unix:/path" or "inet:127.0.0.1:port"; empty for none).
# Further arguments are main.cf settings applied last, overriding the
# defaults below (e.g. milter_default_action=accept).  Exports SMTP_PORT,
# POSTFIX_DIR.
#
# Delivery: mail for any address at dest.test is delivered by virtual(8)
# into one maildir, one file per message and recipient: $T/delivered/new/*,
# each with a "Delivered-To: user@dest.test" header (h_delivered_files,
# h_wait_for_delivery).  That needs no system users and keeps the whole
# message with every header the milter added.  (One maildir for all:
# virtual(8) refuses regexp substitution in virtual_mailbox_maps, so
# per-recipient directories would need a fixed list of recipients.)
# Everything else goes nowhere: local domains (localhost, $myhostname) are
# discarded, and any other destination fails at once (default_transport =
# error), so nothing can leave the host.
#
# maillog_file_prefixes must be widened: its default (/var, /dev/stdout)
# makes "postfix start" fail for a maillog_file under /tmp.  One instance
# per test ($T/postfix).  "postfix start" takes ~2 s (its checks), stopping
# ~1 s.
h_start_postfix() {
    local milter=${1-} dir spool data uid gid p
    [ $# -gt 0 ] && shift
    [ -n "$T" ] || h_bail_out "h_start_postfix before h_init"
    for p in "$@"; do
        case $p in
        *=*) ;;
        *) h_diag "h_start_postfix: not a name=value setting: $p"; return 1 ;;
        esac
    done
    dir=$T/postfix
    spool=$T/postfix-spool
    data=$T/postfix-data
    if ! uid=$(id -u postfix) || ! gid=$(id -g postfix); then
        h_diag "no postfix user"
        return 1
    fi
    mkdir -p "$dir" "$spool" "$data" "$T/delivered"
    chown postfix:postfix "$data" "$T/delivered"
    SMTP_PORT=$(h_port) || return 1

    # master.cf: the packaged prototype (it has the postlog unix-dgram
    # service that maillog_file needs), minus smtp/inet, plus our smtpd;
    # no chroot anywhere (a chrooted smtpd cannot reach a unix: milter
    # socket under $T).
    cp /etc/postfix/master.cf.proto "$dir/master.cf"
    : >"$dir/main.cf"

    postconf -c "$dir" -e \
        "compatibility_level = 3.6" \
        "queue_directory = $spool" \
        "data_directory = $data" \
        "maillog_file = $T/maillog" \
        "maillog_file_prefixes = $T" \
        "inet_interfaces = 127.0.0.1" \
        "inet_protocols = all" \
        "myhostname = mx.dnsguard.test" \
        "mydomain = dnsguard.test" \
        "myorigin = \$myhostname" \
        "mydestination = \$myhostname, localhost" \
        "local_transport = discard:local mail is discarded in tests" \
        "local_recipient_maps =" \
        "alias_maps =" \
        "alias_database =" \
        "relay_domains =" \
        "relayhost =" \
        "default_transport = error:no outside delivery in tests" \
        "relay_transport = error:no outside delivery in tests" \
        "virtual_mailbox_domains = dest.test" \
        "virtual_mailbox_base = $T" \
        "virtual_mailbox_maps = static:delivered/" \
        "virtual_alias_maps =" \
        "virtual_uid_maps = static:$uid" \
        "virtual_gid_maps = static:$gid" \
        "virtual_minimum_uid = $uid" \
        "smtpd_peername_lookup = no" \
        "smtp_dns_support_level = disabled" \
        "lmtp_dns_support_level = disabled" \
        "smtpd_banner = \$myhostname ESMTP dnsguard-test" \
        "mynetworks = 127.0.0.0/8" \
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
        "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
        "smtpd_milters = $milter" \
        "non_smtpd_milters =" \
        "milter_default_action = tempfail" \
        "milter_protocol = 6" \
        "smtpd_error_sleep_time = 0s" \
        "in_flow_delay = 0s" \
        "biff = no" \
        "append_dot_mydomain = no" \
        >"$T/postconf.out" 2>&1 || {
        h_diag "postconf failed:" "$(cat "$T/postconf.out")"
        return 1
    }
    if [ $# -gt 0 ]; then
        postconf -c "$dir" -e "$@" >>"$T/postconf.out" 2>&1 || {
            h_diag "postconf (overrides) failed:" "$(cat "$T/postconf.out")"
            return 1
        }
    fi
    if ! postconf -c "$dir" -M# smtp/inet ||
        ! postconf -c "$dir" -M "127.0.0.1:$SMTP_PORT/inet=127.0.0.1:$SMTP_PORT inet n - n - - smtpd" ||
        ! postconf -c "$dir" -F '*/*/chroot = n'; then
        h_diag "postconf (master.cf) failed"
        return 1
    fi

    # From here on the cleanup trap stops this instance.
    _h_postfix_dirs+=("$dir")
    POSTFIX_DIR=$dir
    export SMTP_PORT POSTFIX_DIR
    postfix -c "$dir" start >"$T/postfix-start.out" 2>&1 || {
        # postfix(1) reports fatal errors (e.g. a maillog_file outside
        # maillog_file_prefixes) to syslog, not to stderr
        h_diag "postfix start failed:" "$(cat "$T/postfix-start.out")"
        h_dump_file "$T/syslog" 10
        return 1
    }
    _h_wait_banner "$SMTP_PORT" 15 || {
        h_diag "Postfix smtpd did not answer on 127.0.0.1:$SMTP_PORT"
        h_dump_file "$T/maillog" 20
        return 1
    }
}

# Wait until 127.0.0.1:PORT sends an SMTP 220 banner (bounded).
_h_wait_banner() {
    local port=$1 timeout=${2:-10} deadline line
    deadline=$(($(_h_now_ms) + timeout * 1000))
    while [ "$(_h_now_ms)" -lt "$deadline" ]; do
        line=""
        {
            IFS= read -r -t 5 line <&3
            printf 'QUIT\r\n' >&3
        } 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$port"
        case $line in 220*) return 0 ;; esac
        sleep 0.1
    done
    return 1
}

# h_postfix_reload: apply main.cf/master.cf changes made with
# "postconf -c $POSTFIX_DIR ..." to the running instance.
h_postfix_reload() {
    postfix -c "$POSTFIX_DIR" reload >>"$T/postfix-start.out" 2>&1
}

# h_delivered_files [RECIPIENT]: print the paths of the delivered messages,
# oldest first; with RECIPIENT (user@dest.test) only those whose
# Delivered-To header names it (case-insensitive).
h_delivered_files() {
    local d=$T/delivered/new f
    [ -d "$d" ] || return 0
    # maildir file names are plain (time.unique.host); ls sorts by mtime
    # shellcheck disable=SC2012
    ls -1tr -- "$d" | while IFS= read -r f; do
        if [ -z "${1:-}" ] ||
            sed '/^$/q' "$d/$f" | grep -Fixq -- "Delivered-To: $1"; then
            printf '%s\n' "$d/$f"
        fi
    done
}

# h_wait_for_delivery [RECIPIENT] [COUNT] [TIMEOUT_S]: wait until at least
# COUNT (default 1) messages were delivered (to RECIPIENT, if not empty).
h_wait_for_delivery() {
    local rcpt=${1:-} count=${2:-1} timeout=${3:-10} deadline n
    deadline=$(($(_h_now_ms) + timeout * 1000))
    while :; do
        n=$(h_delivered_files "$rcpt" | wc -l)
        [ "$n" -ge "$count" ] && return 0
        [ "$(_h_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# --- SMTP client ----------------------------------------------------------------

# h_swaks ARGS...: run swaks against the test Postfix; its transcript goes
# to $T/swaks.out (and is kept as $T/swaks.N.out).  Returns swaks' exit code
# (e.g. 23 when MAIL FROM is rejected, 24 for RCPT TO, 25 for DATA/end of
# data).  It runs in the background so that a signal stops the test at once.
h_swaks() {
    local rc
    _h_swaks_n=$((_h_swaks_n + 1))
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --timeout 30 "$@" \
        0<&0 >"$T/swaks.out" 2>&1 &
    _h_fg_pid=$!
    wait "$_h_fg_pid"
    rc=$?
    _h_fg_pid=""
    cp -- "$T/swaks.out" "$T/swaks.$_h_swaks_n.out"
    return "$rc"
}

# h_last_reply_matching ERE: print the last server reply line of the last
# h_swaks transcript ("<-  ..." or "<** ..." lines, prefix included) that
# matches ERE; non-zero if there is none.  Use >/dev/null for the status only.
h_last_reply_matching() {
    local line
    line=$(grep -E '^(<-|<\*\*) ' "$T/swaks.out" 2>/dev/null | grep -E -- "$1" | tail -n 1)
    [ -n "$line" ] || return 1
    printf '%s\n' "$line"
}

# h_smtp_reply_to STAGE: print the final line of the server's reply to
# STAGE in the last transcript, without the "<- "/"<** " prefix: STAGE is
# CONNECT (the banner), EHLO, HELO, XCLIENT, STARTTLS, MAIL, RCPT (one line
# per RCPT), DATA (the 354 or rejection), DOT (after the message), QUIT.
# Non-zero if the stage did not happen.  Assumes one command per reply, so
# not for swaks --pipeline.
h_smtp_reply_to() {
    local out
    out=$(awk -v want="$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')" '
        BEGIN { stage = "CONNECT"; indata = 0 }
        /^ -> / {
            if (indata) {                     # message text until "."
                if ($0 == " -> .") { stage = "DOT"; indata = 0 }
                next
            }
            cmd = toupper($2); sub(/:.*/, "", cmd)
            stage = cmd
            next
        }
        /^(<-|<\*\*) / {
            text = $0; sub(/^(<-|<\*\*) +/, "", text)
            # the last line of a multi-line reply has a space after the code
            if (text ~ /^[0-9][0-9][0-9]-/) next
            if (stage == "DATA" && text ~ /^354/) indata = 1
            if (stage == want) print text
        }' "$T/swaks.out" 2>/dev/null)
    [ -n "$out" ] || return 1
    printf '%s\n' "$out"
}

# h_queue_id: print the Postfix queue id from the last transcript's
# "250 ... queued as ID".
h_queue_id() {
    h_smtp_reply_to DOT | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | grep .
}

# tests/lib/dnsguard.sh -- starting and driving dnsguard in integration tests and the demo.
#
# Sourced after harness.sh.  Every scenario starts dnsguard the same way: a config written from
# defaults fit for a test (socket in $T, no user switch, the test DNS server) plus overrides,
# in the foreground, its stderr in $T/dnsguard.out.
#
#   dg_write_config FILE [key=value ...]   write a config (DNS_PORT must be set for DNS keys)
#   dg_write_policy FILE JSON              write a policy file
#   dg_start [CONF]                        start dnsguard -f; waits for its "starting" line
#   dg_stop                                SIGTERM and wait (exit status in DG_STATUS)
#   dg_reload                              SIGUSR1; waits for the outcome line
#   dg_log                                 path of the log dnsguard writes (its stderr)
#   dg_miltertest SCRIPT [name=value ...]  run a tests/milter script against $DG_SOCKET

DG_BIN=${DNSGUARD:-$top_builddir/milter/dnsguard}
DG_PID=
DG_STATUS=
DG_SOCKET=

dg_write_config() {
    local file=$1 kv
    shift
    {
        echo "# written by the test harness"
        echo "milter_socket = unix:$T/dnsguard.sock"
        echo "milter_socket_mode = 0666"
        echo "user ="
        echo "group ="
        echo "pid_file = $T/dnsguard.pid"
        echo "policy_file = $T/policy.json"
        echo "badmail_dir = $T/badmail"
        echo "log_level = debug"
        echo "shutdown_timeout = 10s"
        [ -z "${DNS_PORT:-}" ] || echo "dns_servers = 127.0.0.1@$DNS_PORT"
    } >"$file.base"
    # overrides replace the base line of the same key
    cp "$file.base" "$file"
    for kv in "$@"; do
        local key=${kv%%=*}
        grep -v "^$key =" "$file" >"$file.tmp"
        mv "$file.tmp" "$file"
        echo "$key = ${kv#*=}" >>"$file"
    done
    rm -f "$file.base"
}

dg_write_policy() {
    printf '%s\n' "$2" >"$1"
}

dg_log() {
    echo "$T/dnsguard.out"
}

dg_start() {
    local conf=${1:-$T/dnsguard.conf}
    [ -f "$T/policy.json" ] || dg_write_policy "$T/policy.json" '{"version": 1}'
    DG_SOCKET=$(sed -n 's/^milter_socket = //p' "$conf" | tail -n 1)
    : >"$T/dnsguard.out"
    h_spawn dnsguard "$DG_BIN" -f -c "$conf"
    DG_PID=$H_PID
    if ! h_wait_for_log "$T/dnsguard.out" 'starting dnsguard' 10; then
        h_diag "dnsguard did not start:"
        h_dump_file "$T/dnsguard.out" 20
        return 1
    fi
}

dg_stop() {
    [ -n "$DG_PID" ] || return 0
    kill -TERM "$DG_PID" 2>/dev/null
    # setsid(1) did not fork (see _h_spawn_bg), so dnsguard is our child: wait gives its status.
    # A watchdog turns a hang into a test failure instead of a stuck suite.  Its sleep must go
    # with it: an orphaned "sleep 30" holding the script's stdout kept the TAP driver (and any
    # pipe) waiting for it long after the script had ended.
    (
        trap 'kill $! 2>/dev/null; exit 0' TERM
        sleep 30 &
        wait $!
        kill -KILL "$DG_PID" 2>/dev/null
    ) >/dev/null 2>&1 &
    local watchdog=$!
    wait "$DG_PID" 2>/dev/null
    DG_STATUS=$?
    kill "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    dg_sanitizer_clean || DG_STATUS=sanitizer
    h_kill "$DG_PID"
    DG_PID=
}

# dg_sanitizer_clean: false (and the report shown) if AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer wrote anything to dnsguard's stderr.
dg_sanitizer_clean() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/dnsguard.out" 2>/dev/null; then
        h_diag "sanitizer report from dnsguard:"
        h_dump_file "$T/dnsguard.out" 60
        return 1
    fi
    return 0
}

dg_reload() {
    local before
    before=$(grep -cE 'reload: config=|reload failed' "$T/dnsguard.out")
    kill -USR1 "$DG_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -cE 'reload: config=|reload failed' "$T/dnsguard.out")" -gt "$before" ] && return 0
        sleep 0.05
    done
    return 1
}

dg_miltertest() {
    local script=$1 defs=() kv
    shift
    for kv in "$@"; do defs+=(-D "$kv"); done
    miltertest -v -D "socket=$DG_SOCKET" "${defs[@]}" -s "$top_srcdir/tests/milter/$script" \
        >"$T/miltertest.out" 2>&1
}

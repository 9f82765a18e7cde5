#!/usr/bin/env bash
# The demo: installs what is missing (Debian), builds the library in
# _build/demo, starts the local ingest emulator on a port the kernel picks,
# runs the quickstart example against it, shows what the emulator received,
# stops the emulator, and exits with the example's status.
#
# While parts are still missing it degrades, saying so: without the emulator
# the example runs against the endpoint of the environment (the local OneAgent
# by default); without examples/quickstart it runs examples/serialize; with
# neither it runs the test suite of the demo build.
set -u -o pipefail

DTM_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$DTM_SRCDIR/scripts/deps.sh"
# shellcheck source=scripts/common.sh
. "$DTM_SRCDIR/scripts/common.sh"

BUILD=$DTM_SRCDIR/_build/demo
EMULATOR_PID=
EMULATOR_URL=

stop_emulator()
{
    [ -n "$EMULATOR_PID" ] || return 0
    if kill -TERM "$EMULATOR_PID" 2>/dev/null; then
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$EMULATOR_PID" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$EMULATOR_PID" 2>/dev/null; then
            dtm_say "demo: the emulator did not stop on SIGTERM; killing it (pid $EMULATOR_PID)"
            kill -KILL "$EMULATOR_PID" 2>/dev/null
        fi
    fi
    wait "$EMULATOR_PID" 2>/dev/null
    EMULATOR_PID=
}

# Start tools/dtmetrics-emulator on port 0 and read the URL it prints.
start_emulator()
{
    local log=$BUILD/emulator.log
    # stdbuf: the "listening on" line must reach the log file at once even if
    # the program leaves stdout fully buffered.
    stdbuf -oL -eL "$BUILD/tools/dtmetrics-emulator" --port 0 >"$log" 2>&1 </dev/null &
    EMULATOR_PID=$!
    for _ in $(seq 1 100); do
        EMULATOR_URL=$(grep -o 'listening on http://127\.0\.0\.1:[0-9][0-9]*' "$log" |
            head -n 1 | sed 's/^listening on //')
        [ -n "$EMULATOR_URL" ] && break
        if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [ -z "$EMULATOR_URL" ]; then
        dtm_say "demo: the emulator did not report 'listening on http://127.0.0.1:PORT'; its output:"
        sed 's/^/  /' "$log"
        stop_emulator
        return 1
    fi
    dtm_say "demo: dtmetrics-emulator (pid $EMULATOR_PID) listening on $EMULATOR_URL"
}

main()
{
    local example="" status
    # shellcheck disable=SC2086
    dtm_deps_ensure $DTM_PKGS_BUILD || return 1
    dtm_bootstrap || return 1
    dtm_configure demo --enable-tests CC=gcc "CFLAGS=-O2 -g" || return 1
    dtm_make demo || return 1

    if [ -x "$BUILD/examples/quickstart" ]; then
        example=quickstart
    elif [ -x "$BUILD/examples/serialize" ]; then
        dtm_say "demo: examples/quickstart does not exist yet; running examples/serialize"
        example=serialize
    else
        dtm_say "demo: no example program yet (examples/quickstart, examples/serialize);"
        dtm_say "demo: running the test suite of the demo build instead"
        dtm_deps_ensure $DTM_PKGS_LOCALE || return 1
        dtm_locale_ensure || return 1
        dtm_check demo
        return
    fi

    if [ "$example" = quickstart ]; then
        if [ -x "$BUILD/tools/dtmetrics-emulator" ]; then
            start_emulator || return 1
            DT_METRICS_INGEST_URL=$EMULATOR_URL/metrics/ingest
            export DT_METRICS_INGEST_URL
        else
            dtm_say "demo: tools/dtmetrics-emulator is not built (not written yet, or" \
                "libmicrohttpd missing); sending to ${DT_METRICS_INGEST_URL:-the local OneAgent}"
        fi
    fi

    dtm_say "demo: running examples/$example${DT_METRICS_INGEST_URL:+ with DT_METRICS_INGEST_URL=$DT_METRICS_INGEST_URL}"
    "$BUILD/examples/$example" </dev/null
    status=$?
    dtm_say "demo: examples/$example exited with status $status"

    if [ -n "$EMULATOR_PID" ]; then
        dtm_say "demo: what the emulator received (GET $EMULATOR_URL/_emulator/lines):"
        if ! curl -fsS --max-time 10 "$EMULATOR_URL/_emulator/lines"; then
            dtm_say "demo: could not read $EMULATOR_URL/_emulator/lines"
        fi
        echo
        stop_emulator
    fi
    return $status
}

trap stop_emulator EXIT
trap 'exit 130' INT TERM
main "$@"

# shellcheck shell=bash
# Build helpers shared by run-tests.sh and run-demo.sh.  Source it after
# setting DTM_SRCDIR (the repository root); it only defines functions.
#
# Every build is out of tree, in $DTM_SRCDIR/_build/<name>, so the source
# tree only ever receives the (git-ignored) files of autoreconf.

DTM_JOBS=${DTM_JOBS:-2}

dtm_say()
{
    printf '==> %s\n' "$*"
}

dtm_fail()
{
    printf '==> FAILED: %s\n' "$*" >&2
    return 1
}

# Seconds as m:ss.
dtm_duration()
{
    printf '%d:%02d' $(($1 / 60)) $(($1 % 60))
}

# Generate configure when it is missing or older than its inputs, and refuse
# a source tree that is configured in place (out-of-tree builds need a clean
# one; configure would stop with a less helpful message).
dtm_bootstrap()
{
    local stale
    if [ -f "$DTM_SRCDIR/config.status" ]; then
        dtm_fail "$DTM_SRCDIR is configured in place; run 'make distclean' there first" \
            "(the scripts build in _build/ and need an unconfigured source tree)"
        return 1
    fi
    if [ -f "$DTM_SRCDIR/configure" ] && [ -f "$DTM_SRCDIR/Makefile.in" ]; then
        stale=$(cd "$DTM_SRCDIR" && find configure.ac Makefile.am m4 -newer configure \
            -type f 2>/dev/null | head -n 1)
        [ -z "$stale" ] && return 0
        # A release tarball has no autotools inputs to be newer than configure;
        # in a checkout, regenerate.
    fi
    dtm_say "autoreconf -fi"
    (cd "$DTM_SRCDIR" && autoreconf -fi) || dtm_fail "autoreconf"
}

# dtm_configure NAME ARG...: configure _build/NAME with the arguments.  An
# existing build directory configured with the same arguments is reused
# (make rebuilds what changed); otherwise it is recreated.
dtm_configure()
{
    local name=$1 dir stamp want
    shift
    dir=$DTM_SRCDIR/_build/$name
    stamp=$dir/.dtm-configure-args
    want=$(printf '%q ' "$@")
    if [ -f "$dir/config.status" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if [ -d "$dir" ]; then
        chmod -R u+w "$dir" 2>/dev/null # distcheck leaves read-only directories
        rm -rf "$dir"
    fi
    mkdir -p "$dir" || return 1
    dtm_say "configure ($name): $want"
    if ! (cd "$dir" && "$DTM_SRCDIR/configure" -q "$@"); then
        sed -n '/^## Running config.status/q; /error:/p' "$dir/config.log" 2>/dev/null | tail -n 20
        dtm_fail "configure ($name); see $dir/config.log"
        return 1
    fi
    printf '%s' "$want" >"$stamp"
}

# dtm_make NAME ARG...: make in _build/NAME, under the command prefix
# DTM_MAKE_WRAPPER when it is set (for example "setarch x86_64 -R").
dtm_make()
{
    local name=$1
    shift
    # shellcheck disable=SC2086
    (cd "$DTM_SRCDIR/_build/$name" && ${DTM_MAKE_WRAPPER:-} make -j"$DTM_JOBS" "$@")
}

# Print what the test logs of _build/NAME (newer than STAMP) say: Check's
# summary line of each program, valgrind's error summary when there is one,
# the automake totals of SUITELOG, the tests that were skipped, and the full
# log of every test that did not pass.
dtm_test_report()
{
    local name=$1 stamp=$2 suitelog=${3:-test-suite.log} dir logs log trs base res bad=0
    dir=$DTM_SRCDIR/_build/$name
    logs=$(cd "$dir" && find . -name '*.log' -newer "$stamp" \
        ! -name 'test-suite*.log' ! -name config.log | sed 's|^\./||' | LC_ALL=C sort)
    echo "---- results ($name) ----"
    for log in $logs; do
        base=${log%.log}
        res=$(grep -h '^[0-9]*%: Checks:' "$dir/$log" | tail -n 1)
        [ -n "$res" ] && printf '  %-32s %s\n' "$base" "$res"
        res=$(awk '$2 == "ERROR" && $3 == "SUMMARY:" { n++; e += $4 }
            END { if (n) printf "%d errors (valgrind, %d process%s)", e, n, (n > 1 ? "es" : "") }' \
            "$dir/$log")
        [ -n "$res" ] && printf '  %-32s %s\n' "$base" "$res"
    done
    if [ -f "$dir/$suitelog" ]; then
        printf '  automake:'
        sed -n 's/^# \([A-Z]*\): *\([0-9]*\)$/ \1 \2/p' "$dir/$suitelog" | tr -d '\n'
        echo
    fi
    for log in $logs; do
        trs=$dir/${log%.log}.trs
        [ -f "$trs" ] || continue
        res=$(sed -n 's/^:global-test-result: //p' "$trs")
        case "$res" in
        PASS | XFAIL) ;;
        SKIP)
            printf '  SKIPPED: %s: %s\n' "${log%.log}" \
                "$(grep -v '^ *$' "$dir/$log" | tail -n 1)"
            ;;
        *)
            bad=1
            printf '\n---- %s: %s (%s) ----\n' "$res" "${log%.log}" "$dir/$log"
            cat "$dir/$log"
            ;;
        esac
    done
    [ "$bad" = 0 ]
}

# dtm_check NAME [MAKE-ARG...]: make check (or the given target) in
# _build/NAME, then print the report.  Fails when either fails.
dtm_check()
{
    local name=$1 stamp rc=0 suitelog=test-suite.log arg
    shift
    [ $# -gt 0 ] || set -- check
    for arg in "$@"; do
        case "$arg" in
        TEST_SUITE_LOG=*) suitelog=${arg#TEST_SUITE_LOG=} ;;
        check-valgrind-*) suitelog=test-suite-${arg#check-valgrind-}.log ;;
        esac
    done
    stamp=$DTM_SRCDIR/_build/$name/.dtm-check-stamp
    touch "$stamp"
    sleep 1 # a log written within the same clock tick must still count as newer
    dtm_make "$name" "$@" || rc=1
    dtm_test_report "$name" "$stamp" "$suitelog" || rc=1
    return $rc
}

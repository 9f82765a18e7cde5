#!/usr/bin/env bash
# The test command of libdtmetrics: installs what is missing (Debian), then
# builds and tests the library in several configurations, each out of tree in
# _build/<stage>, and prints a table of the results.
#
#   scripts/run-tests.sh                 every default stage
#   scripts/run-tests.sh asan valgrind   only these stages
#   scripts/run-tests.sh --quick         the gcc stage only
#   scripts/run-tests.sh --help          stages and environment variables
#
# Exit status 0 only when every selected stage passed.
set -u -o pipefail

DTM_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/deps.sh
. "$DTM_SRCDIR/scripts/deps.sh"
# shellcheck source=scripts/common.sh
. "$DTM_SRCDIR/scripts/common.sh"

DEFAULT_STAGES="gcc clang asan tsan valgrind distcheck fuzz"
OTHER_STAGES="lint"

SAN_FLAGS="-fno-omit-frame-pointer -fno-sanitize-recover=all"
# allocator_may_return_null: a huge request gives NULL, as with libc, so the
# library's DTM_ENOMEM paths can be tested instead of ASan stopping the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
FUZZ_SECONDS=${DTM_FUZZ_SECONDS:-30}

usage()
{
    cat <<EOF
usage: scripts/run-tests.sh [--quick] [--serial] [--no-deps] [stage...]

Stages (default: all of the first list, in this order):
  gcc        gcc -O2 -Werror: configure --enable-tests, make, make check
  clang      the same with clang
  asan       clang with AddressSanitizer + UndefinedBehaviorSanitizer, make check
  tsan       clang with ThreadSanitizer, make check (only the tests named by the
             Makefile variable THREADED_TESTS when it is set)
  valgrind   valgrind memcheck over the Check programs (CK_FORK=no);
             leaks and errors fail
  distcheck  make distcheck (tarball, VPATH build, check, install, uninstall)
  fuzz       libFuzzer, $FUZZ_SECONDS s per fuzz/fuzz_*.c target
Not in the default list:
  lint       make lint (clang-format --dry-run and cppcheck)

Options:
  --quick    the gcc stage only
  --serial   one stage at a time, output as it happens (default with more
             than one stage: two stages side by side, each stage's output
             printed when it ends; fuzz always runs last, alone)
  --no-deps  do not check Debian packages or the test locale
  --list     print the default stages and exit

Environment: DTM_JOBS (jobs in all, default 2: with two stages side by side
each makes with -j1), DTM_STAGE_JOBS (stages side by side, default 2),
DTM_FUZZ_SECONDS (default 30),
DTM_REQUIRE_LOCALE=0 (let the comma-decimal locale test skip instead of
generating de_DE.UTF-8), ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS.
Builds go to _build/<stage>; a build directory is reused when its configure
arguments did not change.
EOF
}

# ---- stages ----

stage_gcc()
{
    dtm_configure gcc --enable-tests CC=gcc "CFLAGS=-O2 -g -Werror" || return 1
    dtm_make gcc || return 1
    dtm_check gcc
}

stage_clang()
{
    dtm_configure clang --enable-tests CC=clang "CFLAGS=-O2 -g -Werror" || return 1
    dtm_make clang || return 1
    dtm_check clang
}

stage_asan()
{
    local san="-fsanitize=address,undefined"
    dtm_configure asan --enable-tests --disable-valgrind CC=clang \
        "CFLAGS=-O1 -g $san $SAN_FLAGS -Werror" "LDFLAGS=$san" || return 1
    dtm_make asan || return 1
    dtm_check asan
}

# Print the command prefix ThreadSanitizer needs on this kernel: nothing, or
# setarch -R when the address space randomization is too wide for clang's
# TSan ("FATAL: ThreadSanitizer: unexpected memory mapping").
tsan_prefix()
{
    local probe=$DTM_SRCDIR/_build/tsan/tsan-probe out
    printf 'int main(void) { return 0; }\n' >"$probe.c"
    clang -fsanitize=thread -o "$probe" "$probe.c" || return 1
    if out=$("$probe" 2>&1); then
        return 0
    fi
    if printf '%s' "$out" | grep -q 'unexpected memory mapping'; then
        if setarch "$(uname -m)" -R "$probe" >/dev/null 2>&1; then
            dtm_say "tsan: kernel address randomization too wide; running under setarch -R" >&2
            echo "setarch $(uname -m) -R"
            return 0
        fi
        printf '%s\n' "$out" >&2
        dtm_fail "ThreadSanitizer cannot map its shadow memory, even under setarch -R;" \
            "as root: sysctl vm.mmap_rnd_bits=28"
        return 1
    fi
    printf '%s\n' "$out" >&2
    dtm_fail "a trivial ThreadSanitizer program does not run"
}

# Value of a variable of _build/NAME/Makefile.
make_var()
{
    # shellcheck disable=SC2016
    (cd "$DTM_SRCDIR/_build/$1" &&
        printf 'dtm-print-var:\n\t@echo $(%s)\n' "$2" |
        make -s --no-print-directory -f Makefile -f - dtm-print-var)
}

stage_tsan()
{
    local san="-fsanitize=thread" tests prefix rc=0
    dtm_configure tsan --enable-tests --disable-valgrind CC=clang \
        "CFLAGS=-O1 -g $san -fno-omit-frame-pointer -Werror" "LDFLAGS=$san" || return 1
    dtm_make tsan || return 1
    prefix=$(tsan_prefix) || return 1
    tests=$(make_var tsan THREADED_TESTS)
    if [ -n "$tests" ]; then
        dtm_say "tsan: THREADED_TESTS = $tests"
        set -- check TESTS="$tests"
    else
        set -- check
    fi
    DTM_MAKE_WRAPPER=$prefix dtm_check tsan "$@" || rc=1
    if [ $rc != 0 ] && [ -z "$prefix" ] &&
        grep -rqs 'FATAL: ThreadSanitizer: unexpected memory mapping' \
            --include='*.log' "$DTM_SRCDIR/_build/tsan"; then
        dtm_say "tsan: unexpected memory mapping; retrying under setarch -R"
        rc=0
        DTM_MAKE_WRAPPER="setarch $(uname -m) -R" dtm_check tsan "$@" || rc=1
    fi
    return $rc
}

stage_valgrind()
{
    dtm_configure valgrind --enable-tests --enable-valgrind CC=gcc "CFLAGS=-O1 -g" || return 1
    dtm_make valgrind || return 1
    # Build the test programs without running them, then run them under memcheck.
    dtm_make valgrind check TESTS= >/dev/null || return 1
    # Check must not fork: a leak in a forked child would show up as a
    # confusing "Error" of a passing test (Makefile.am sets it as well).
    CK_FORK=no dtm_check valgrind check-valgrind-memcheck
}

stage_distcheck()
{
    local log rc=0 sub
    dtm_configure distcheck || return 1
    log=$DTM_SRCDIR/_build/distcheck/distcheck.log
    dtm_make distcheck distcheck DISTCHECK_CONFIGURE_FLAGS=--quiet 2>&1 | tee "$log" || rc=1
    echo "---- results (distcheck) ----"
    sed -n 's/^# \(TOTAL\|PASS\|SKIP\|XFAIL\|FAIL\|XPASS\|ERROR\): *\([0-9]*\)$/\1 \2/p' "$log" |
        paste -sd' ' | sed 's/^/  automake (make check of the tarball): /'
    grep -E 'archives ready for distribution|^dtmetrics-.*\.tar\.gz$' "$log" | sed 's/^/  /'
    if [ $rc != 0 ]; then
        for sub in "$DTM_SRCDIR"/_build/distcheck/dtmetrics-*/_build/sub; do
            [ -d "$sub" ] || continue
            touch -d '@0' "$DTM_SRCDIR/_build/distcheck/.epoch"
            dtm_test_report "${sub#"$DTM_SRCDIR"/_build/}" "$DTM_SRCDIR/_build/distcheck/.epoch"
        done
    fi
    return $rc
}

# Run one fuzz target for FUZZ_SECONDS; its output goes to its log.
fuzz_run()
{
    local t=$1 dir=$DTM_SRCDIR/_build/fuzz seed dict=
    mkdir -p "$dir/corpus/$t" "$dir/artifacts"
    rm -f "$dir/artifacts/$t-"*
    seed=$DTM_SRCDIR/fuzz/corpus/$t
    [ -d "$seed" ] || seed=
    [ -f "$DTM_SRCDIR/fuzz/$t.dict" ] && dict=-dict=$DTM_SRCDIR/fuzz/$t.dict
    # The first corpus directory receives new inputs; the committed seeds
    # (fuzz/corpus/<target>/) are only read.
    "$dir/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" ${dict:+"$dict"} \
        "$dir/corpus/$t" ${seed:+"$seed"} >"$dir/$t.log" 2>&1
    echo $? >"$dir/$t.rc"
}

stage_fuzz()
{
    local san="-fsanitize=address,undefined" dir=$DTM_SRCDIR/_build/fuzz
    local targets t f cflags rc=0 running
    targets=$(cd "$DTM_SRCDIR" && for f in fuzz/fuzz_*.c; do
        [ -f "$f" ] && basename "$f" .c
    done)
    if [ -z "$targets" ]; then
        dtm_say "fuzz: no fuzz targets (fuzz/fuzz_*.c); nothing to run"
        return 0
    fi
    cflags="-O1 -g $san $SAN_FLAGS"
    # The library is instrumented for coverage (fuzzer-no-link); each target
    # links the convenience library, so it can reach internal functions.
    dtm_configure fuzz --disable-shared --disable-valgrind CC=clang \
        "CFLAGS=$cflags -fsanitize=fuzzer-no-link" "LDFLAGS=$san" || return 1
    dtm_make fuzz lib/libdtmetrics-core.la || return 1
    mkdir -p "$dir/fuzz"
    for t in $targets; do
        dtm_say "fuzz: building $t"
        # shellcheck disable=SC2046,SC2086
        (cd "$dir" &&
            clang $cflags -fsanitize=fuzzer -I. -I"$DTM_SRCDIR/include" -I"$DTM_SRCDIR/lib" \
                $(pkg-config --cflags libcurl jansson) -c -o "fuzz/$t.o" "$DTM_SRCDIR/fuzz/$t.c" &&
            ./libtool --quiet --tag=CC --mode=link clang $cflags -fsanitize=fuzzer \
                -o "fuzz/$t" "fuzz/$t.o" lib/libdtmetrics-core.la) || return 1
    done
    dtm_say "fuzz: running each target for ${FUZZ_SECONDS}s, $DTM_JOBS at a time"
    for t in $targets; do
        rm -f "$dir/$t.rc"
        fuzz_run "$t" &
        running=$(jobs -rp | wc -l)
        if [ "$running" -ge "$DTM_JOBS" ]; then
            wait -n
        fi
    done
    wait
    echo "---- results (fuzz) ----"
    for t in $targets; do
        local status
        status=$(cat "$dir/$t.rc" 2>/dev/null || echo 1)
        if [ "$status" = 0 ]; then
            printf '  %-24s ok:   %s\n' "$t" \
                "$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/$t.log" | tail -n 1 | tr -s ' \t' ' ')"
        else
            rc=1
            printf '  %-24s FAIL (exit %s), log %s\n' "$t" "$status" "$dir/$t.log"
            printf '\n---- %s: the report (full log: %s) ----\n' "$t" "$dir/$t.log"
            # From the sanitizer's or libFuzzer's first complaint on, without
            # ASan's shadow-byte legend.
            awk '/ERROR:|runtime error|deadly signal|out-of-memory|timeout/ { on = 1 }
                 /^Shadow bytes around/ { skip = 1 }
                 /^(MS:|SUMMARY:|artifact_prefix)/ { skip = 0 }
                 on && !skip { print; if (++n >= 80) exit }' "$dir/$t.log"
            for f in "$dir/artifacts/$t-"*; do
                [ -e "$f" ] && echo "  artifact: $f"
            done
        fi
    done
    return $rc
}

stage_lint()
{
    dtm_configure lint || return 1
    dtm_make lint lint
}

# Debian packages a stage needs.
stage_packages()
{
    case "$1" in
    gcc | distcheck) echo "$DTM_PKGS_BUILD $DTM_PKGS_LOCALE" ;;
    clang | asan | tsan) echo "$DTM_PKGS_BUILD $DTM_PKGS_CLANG $DTM_PKGS_LOCALE" ;;
    valgrind) echo "$DTM_PKGS_BUILD $DTM_PKGS_VALGRIND $DTM_PKGS_LOCALE" ;;
    fuzz) echo "$DTM_PKGS_BUILD $DTM_PKGS_CLANG" ;;
    lint) echo "$DTM_PKGS_BUILD clang-format cppcheck" ;;
    esac
}

# CPU seconds (user + system) used so far by the finished children of this
# shell; with the wall time it tells a slow stage from a busy machine.
cpu_seconds()
{
    local f tck
    tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
    if read -r -a f </proc/$$/stat 2>/dev/null; then
        # Fields 16 and 17 (cutime, cstime); comm (field 2) has no spaces here.
        echo $(((f[15] + f[16]) / tck))
    else
        echo 0
    fi
}

git_state()
{
    git -C "$DTM_SRCDIR" status --porcelain --untracked-files=all 2>/dev/null || true
}

# ---- running stages ----

STAGE_NAMES=()
STAGE_RESULTS=()
STAGE_TIMES=()
STAGE_CPUS=()
LOGDIR=$DTM_SRCDIR/_build/logs

record()
{
    STAGE_NAMES+=("$1")
    STAGE_RESULTS+=("$2")
    STAGE_TIMES+=("$3")
    STAGE_CPUS+=("$4")
}

# One stage with its output on the terminal.
run_stage()
{
    local s=$1 t0 c0 status
    dtm_say "---------------- stage $s ----------------"
    t0=$(date +%s)
    c0=$(cpu_seconds)
    if "stage_$s"; then status=pass; else status=FAIL; fi
    dtm_say "stage $s: $status ($(dtm_duration $(($(date +%s) - t0))))"
    record "$s" "$status" $(($(date +%s) - t0)) $(($(cpu_seconds) - c0))
}

# One stage in a background subshell: output to its log, the result to
# LOGDIR/STAGE.res as "status seconds cpu-seconds".
run_stage_bg()
{
    local s=$1 t0 status f tck
    t0=$(date +%s)
    if "stage_$s" >"$LOGDIR/$s.log" 2>&1 </dev/null; then status=pass; else status=FAIL; fi
    tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
    read -r -a f </proc/"$BASHPID"/stat 2>/dev/null || f=()
    echo "$status $(($(date +%s) - t0)) $(((${f[13]:-0} + ${f[14]:-0} + ${f[15]:-0} + ${f[16]:-0}) / tck))" \
        >"$LOGDIR/$s.res"
}

# Wait for one stage of run_lanes to end, then print its log and result.
lane_wait()
{
    local pid s res
    wait -n -p pid
    s=${LANE_STAGE[$pid]:-}
    [ -n "$s" ] || return 0
    unset "LANE_STAGE[$pid]"
    dtm_say "---------------- stage $s ----------------"
    cat "$LOGDIR/$s.log"
    read -r -a res <"$LOGDIR/$s.res" 2>/dev/null || res=(FAIL 0 0)
    dtm_say "stage $s: ${res[0]} ($(dtm_duration "${res[1]}"))"
    record "$s" "${res[0]}" "${res[1]}" "${res[2]}"
}

kill_lanes()
{
    local pid
    for pid in "${!LANE_STAGE[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null
    done
    exit 130
}

# Stages side by side, LANES at a time, each with its share of DTM_JOBS;
# each stage's output is printed when it ends.
run_lanes()
{
    local s
    declare -gA LANE_STAGE=()
    mkdir -p "$LOGDIR"
    set -m # each stage in its own process group, so that kill_lanes stops it all
    trap kill_lanes INT TERM
    for s in "$@"; do
        while [ ${#LANE_STAGE[@]} -ge "$LANES" ]; do
            lane_wait
        done
        rm -f "$LOGDIR/$s.res"
        dtm_say "stage $s: started (log: $LOGDIR/$s.log)"
        DTM_JOBS=$(((DTM_JOBS + LANES - 1) / LANES)) run_stage_bg "$s" &
        LANE_STAGE[$!]=$s
    done
    while [ ${#LANE_STAGE[@]} -gt 0 ]; do
        lane_wait
    done
    trap - INT TERM
    set +m
}

main()
{
    local stages="" s pkgs="" need_locale=0 deps=1 start cpu0 failed=0 before after
    local lane_stages=() solo_stages=()
    LANES=${DTM_STAGE_JOBS:-2}
    while [ $# -gt 0 ]; do
        case "$1" in
        -h | --help) usage; return 0 ;;
        --list) echo "$DEFAULT_STAGES"; return 0 ;;
        --quick) stages="$stages gcc" ;;
        --no-deps) deps=0 ;;
        --serial) LANES=1 ;;
        all) stages="$stages $DEFAULT_STAGES" ;;
        -*) usage >&2; return 2 ;;
        *)
            case " $DEFAULT_STAGES $OTHER_STAGES " in
            *" $1 "*) stages="$stages $1" ;;
            *) echo "run-tests.sh: unknown stage '$1'" >&2; usage >&2; return 2 ;;
            esac
            ;;
        esac
        shift
    done
    [ -n "$stages" ] || stages=$DEFAULT_STAGES

    for s in $stages; do
        pkgs="$pkgs $(stage_packages "$s")"
        case "$s" in fuzz | lint) ;; *) need_locale=1 ;; esac
        # The fuzzers run after the others, alone: they use every job slot
        # for a fixed time.
        case "$s" in fuzz) solo_stages+=("$s") ;; *) lane_stages+=("$s") ;; esac
    done
    if [ $deps = 1 ]; then
        # shellcheck disable=SC2086
        dtm_deps_ensure $pkgs || return 1
        if [ $need_locale = 1 ]; then
            dtm_locale_ensure || return 1
        fi
    fi
    dtm_bootstrap || return 1

    # Side by side only where it helps and bash has wait -n -p (5.1).
    if [ ${#lane_stages[@]} -lt 2 ] || [ "$DTM_JOBS" -lt 2 ] ||
        [ "${BASH_VERSINFO[0]}${BASH_VERSINFO[1]}" -lt 51 ]; then
        LANES=1
    fi
    dtm_say "libdtmetrics tests in $DTM_SRCDIR"
    dtm_say "stages:$stages; $LANES at a time; $DTM_JOBS jobs in all"
    dtm_say "$(uname -srm); $(gcc --version | head -n 1); $(clang --version 2>/dev/null | head -n 1)"
    before=$(git_state)
    start=$(date +%s)
    cpu0=$(cpu_seconds)
    if [ "$LANES" -gt 1 ]; then
        run_lanes "${lane_stages[@]}"
    else
        for s in "${lane_stages[@]}"; do
            run_stage "$s"
        done
    fi
    for s in "${solo_stages[@]}"; do
        run_stage "$s"
    done
    after=$(git_state)
    if [ "$before" != "$after" ]; then
        dtm_say "the run changed the source tree (git status):"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>] /  /p'
        record clean-tree FAIL 0 0
    fi

    echo
    printf '%-12s %-6s %8s %9s\n' stage result time "cpu time"
    for s in "${!STAGE_NAMES[@]}"; do
        [ "${STAGE_RESULTS[$s]}" = pass ] || failed=1
        printf '%-12s %-6s %8s %9s\n' "${STAGE_NAMES[$s]}" "${STAGE_RESULTS[$s]}" \
            "$(dtm_duration "${STAGE_TIMES[$s]}")" "$(dtm_duration "${STAGE_CPUS[$s]}")"
    done
    printf '%-12s %-6s %8s %9s\n' total "$([ $failed = 0 ] && echo pass || echo FAIL)" \
        "$(dtm_duration $(($(date +%s) - start)))" "$(dtm_duration $(($(cpu_seconds) - cpu0)))"
    return $failed
}

main "$@"

# shellcheck shell=bash
# Debian packages and the test locale, shared by run-tests.sh and run-demo.sh.
# Source it; it defines functions and package lists and runs nothing.
#
#   dtm_deps_ensure PKG...   install the Debian packages of the list that are
#                            missing (one apt-get update, one apt-get install);
#                            as non-root, name them and fail instead
#   dtm_locale_ensure        make de_DE.UTF-8 available for the comma-decimal
#                            test and export DTM_REQUIRE_LOCALE=1
#
# Set DTM_NO_DEPS=1 to skip both (for example on a machine that is not Debian).

# The lists are used by the scripts that source this file.
# shellcheck disable=SC2034
# What every build needs.  autoconf-archive is not listed on purpose: the
# macros configure.ac uses are committed under m4/.
DTM_PKGS_BUILD="build-essential autoconf automake libtool pkg-config check
libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev zlib1g-dev curl"
# clang's sanitizer and libFuzzer runtimes are only a recommendation of the
# clang package, so --no-install-recommends needs them named: libclang-rt-dev.
DTM_PKGS_CLANG="clang libclang-rt-dev"
DTM_PKGS_VALGRIND="valgrind"
DTM_PKGS_LOCALE="locales"

DTM_TEST_LOCALE="de_DE.UTF-8"

dtm_note()
{
    printf '%s\n' "$*" >&2
}

dtm_is_root()
{
    [ "$(id -u)" -eq 0 ]
}

# Print the packages of the arguments that dpkg does not list as installed.
dtm_deps_missing()
{
    local p status
    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
        case "$status" in
        ii*) ;;
        *) printf '%s\n' "$p" ;;
        esac
    done
}

dtm_deps_ensure()
{
    local missing
    if [ "${DTM_NO_DEPS:-0}" = 1 ]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        dtm_note "deps: not a Debian system (no dpkg-query); not checking packages."
        dtm_note "deps: needed (Debian names): $*"
        return 0
    fi
    # Word splitting of the lists is intended: one package per word.
    # shellcheck disable=SC2046
    missing=$(dtm_deps_missing $(printf '%s\n' "$@" | sort -u) | tr '\n' ' ')
    missing=${missing% }
    if [ -z "$missing" ]; then
        return 0
    fi
    if ! dtm_is_root; then
        dtm_note "deps: missing Debian packages: $missing"
        dtm_note "deps: install them (as root) with:"
        dtm_note "    apt-get install -y --no-install-recommends $missing"
        return 1
    fi
    dtm_note "deps: installing missing Debian packages: $missing"
    if [ -z "${DTM_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get -q update </dev/null || return 1
        DTM_APT_UPDATED=1
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
        $missing </dev/null || return 1
}

# True when the locale (any spelling of UTF-8) is installed.
dtm_locale_present()
{
    local want
    want=$(printf '%s' "$1" | sed 's/\.[Uu][Tt][Ff]-\{0,1\}8$//')
    locale -a 2>/dev/null | grep -qix "$want\.utf-\{0,1\}8"
}

dtm_locale_ensure()
{
    local lang=${DTM_TEST_LOCALE%%.*}
    if [ "${DTM_REQUIRE_LOCALE:-}" = 0 ]; then
        dtm_note "locale: DTM_REQUIRE_LOCALE=0: locale tests may skip."
        return 0
    fi
    if ! dtm_locale_present "$DTM_TEST_LOCALE"; then
        if [ "${DTM_NO_DEPS:-0}" = 1 ] || ! dtm_is_root; then
            dtm_note "locale: $DTM_TEST_LOCALE is missing; as root run:"
            dtm_note "    localedef -i $lang -c -f UTF-8 $DTM_TEST_LOCALE"
            dtm_note "locale: (or set DTM_REQUIRE_LOCALE=0 to let the locale tests skip)"
            return 1
        fi
        dtm_note "locale: generating $DTM_TEST_LOCALE"
        # Keep it enabled for later locale-gen runs, which rebuild the archive
        # from /etc/locale.gen.
        if [ -f /etc/locale.gen ]; then
            sed -i "s/^# *\($DTM_TEST_LOCALE UTF-8\)/\1/" /etc/locale.gen
        fi
        # localedef exits non-zero for mere warnings: judge by the result.
        localedef -i "$lang" -c -f UTF-8 "$DTM_TEST_LOCALE" || true
        if ! dtm_locale_present "$DTM_TEST_LOCALE"; then
            dtm_note "locale: could not generate $DTM_TEST_LOCALE"
            return 1
        fi
    fi
    DTM_REQUIRE_LOCALE=1
    export DTM_REQUIRE_LOCALE
}

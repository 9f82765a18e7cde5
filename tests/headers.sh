#!/bin/sh
# Every installed header compiles on its own, twice in a row (include
# guards), as strict C99 with gcc and with clang when present; <dtmetrics.h>
# also compiles as C++ with g++ when present, and its functions keep C
# linkage there (extern "C"): the object file refers to dtm_strerror, not to a
# mangled name.
: "${top_srcdir:=.}"
NM=${NM:-nm}

inc=$top_srcdir/include
headers=$(cd "$inc" && { ls dtmetrics.h; ls dtmetrics/*.h; } 2>/dev/null)
if [ -z "$headers" ]; then
    echo "FAIL: no headers under $inc"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtm-headers.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

cflags="-std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Wundef -Wshadow -Werror"
status=0
checked=0

# compile COMPILER LANG FLAGS HEADER: a unit that includes HEADER twice and
# declares one thing (ISO C forbids an empty translation unit).
compile()
{
    printf '#include <%s>\n#include <%s>\ntypedef int dtm_headers_test_unit;\n' "$4" "$4" \
        >"$tmp/unit.$2"
    # shellcheck disable=SC2086
    if ! "$1" $3 -I"$inc" -fsyntax-only "$tmp/unit.$2" 2>"$tmp/err"; then
        echo "FAIL: $4 does not compile alone with $1 $3:"
        sed 's/^/  /' "$tmp/err"
        status=1
    fi
    checked=$((checked + 1))
}

ccs=
for cc in gcc clang; do
    command -v "$cc" >/dev/null 2>&1 && ccs="$ccs $cc"
done
if [ -z "$ccs" ]; then
    ccs=${DTM_CC:-cc}
fi

for cc in $ccs; do
    for h in $headers; do
        compile "$cc" c "$cflags" "$h"
    done
done

if command -v g++ >/dev/null 2>&1; then
    compile g++ cc "-std=c++11 -pedantic -Wall -Wextra -Werror" dtmetrics.h
    cat >"$tmp/link.cc" <<'EOF'
#include <dtmetrics.h>
const char *dtm_headers_test(void);
const char *dtm_headers_test(void)
{
    return dtm_strerror(DTM_OK);
}
EOF
    if g++ -std=c++11 -I"$inc" -c -o "$tmp/link.o" "$tmp/link.cc" 2>"$tmp/err"; then
        undef=$($NM -u "$tmp/link.o" | awk '{ print $NF }')
        if ! printf '%s\n' "$undef" | grep -qx dtm_strerror; then
            echo "FAIL: <dtmetrics.h> in C++ does not give dtm_strerror C linkage (extern \"C\"):"
            printf '%s\n' "$undef" | sed 's/^/  /'
            status=1
        fi
    else
        echo "FAIL: a C++ unit calling dtm_strerror does not compile:"
        sed 's/^/  /' "$tmp/err"
        status=1
    fi
else
    echo "note: g++ not found; C++ check skipped"
fi

echo "headers: $checked compilations of $(echo "$headers" | wc -l) headers with:$ccs" \
    "$(command -v g++ >/dev/null 2>&1 && echo g++)"
exit $status

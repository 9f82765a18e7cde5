#!/bin/sh
# The shared library exports the public API and nothing else: every defined
# dynamic symbol starts with dtm_ (never the internal dtm__), every function
# API.md requires is there, and so is every function an installed header
# declares with DTM_EXTERN (a missing one is a link error for users).
: "${top_builddir:=.}" "${top_srcdir:=.}"
NM=${NM:-nm}

so=$top_builddir/lib/.libs/libdtmetrics.so
if [ ! -f "$so" ]; then
    echo "FAIL: $so was not built (the shared library is required)"
    exit 1
fi

# Required by API.md.
api="dtm_strerror
dtm_normalize_metric_key
dtm_normalize_dimension_key
dtm_normalize_dimension_value
dtm_format_double
dtm_serializer_options_init
dtm_serializer_new
dtm_serializer_free
dtm_serialize_counter
dtm_serialize_gauge
dtm_serialize_summary"

# Declared in the installed headers: the identifier before the first "(" of
# each DTM_EXTERN declaration (declarations may span lines: join them and
# split at ";"; preprocessor lines are dropped).
declared=$(cat "$top_srcdir"/include/dtmetrics.h "$top_srcdir"/include/dtmetrics/*.h |
    grep -v '^[[:space:]]*#' | tr '\n' ' ' | tr ';' '\n' |
    sed -n 's/.*DTM_EXTERN[[:space:]][^(]*[^A-Za-z0-9_(]\(dtm_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' |
    LC_ALL=C sort -u)

# Defined dynamic symbols (name without a version suffix).
exported=$($NM -D --defined-only "$so" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }')
if [ -z "$exported" ]; then
    echo "FAIL: $NM -D found no symbols in $so"
    exit 1
fi

status=0
bad=$(printf '%s\n' "$exported" | grep -v '^dtm_[A-Za-z0-9]' || true)
if [ -n "$bad" ]; then
    echo "FAIL: exported symbols outside the dtm_ namespace (or internal dtm__):"
    printf '%s\n' "$bad" | sed 's/^/  /'
    status=1
fi

for sym in $(printf '%s\n%s\n' "$api" "$declared" | LC_ALL=C sort -u); do
    printf '%s\n' "$exported" | grep -qx "$sym" && continue
    if printf '%s\n' "$api" | grep -qx "$sym"; then
        echo "FAIL: $sym (required by API.md) is not exported"
    else
        echo "FAIL: $sym (declared DTM_EXTERN in an installed header) is not exported"
    fi
    status=1
done

n_exp=$(printf '%s\n' "$exported" | wc -l)
n_decl=$(printf '%s\n' "$declared" | grep -c . || true)
echo "exports: $n_exp symbols exported, $n_decl declared in the headers"
printf '%s\n' "$exported" | sed 's/^/  /'
exit $status

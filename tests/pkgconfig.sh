#!/bin/sh
# An installed copy is usable the way users use it: `make install` into a
# temporary DESTDIR, then compile and link a small program with nothing but
# `pkg-config --cflags --libs dtmetrics` and run it.  Skips (77) without
# pkg-config.
: "${top_builddir:=.}"
MAKE=${DTM_MAKE:-make}
CC=${DTM_CC:-cc}

if ! command -v pkg-config >/dev/null 2>&1; then
    echo "SKIP: pkg-config not found"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtm-pkgconfig.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
dest=$tmp/root

# A nested make of our own: drop the parent's jobserver and flags.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL; cd "$top_builddir" &&
    $MAKE install DESTDIR="$dest") >"$tmp/install.log" 2>&1; then
    echo "FAIL: make install DESTDIR=$dest"
    cat "$tmp/install.log"
    exit 1
fi

pcfile=$(find "$dest" -name dtmetrics.pc | head -n 1)
if [ -z "$pcfile" ]; then
    echo "FAIL: dtmetrics.pc was not installed"
    find "$dest" -type f | sed 's/^/  /'
    exit 1
fi

# The .pc file names the final prefix; the sysroot variable maps the -I and
# -L paths into the DESTDIR (those of other packages, such as libcurl's, then
# name directories that do not exist, which compilers ignore).
PKG_CONFIG_PATH=$(dirname "$pcfile")
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if ! flags=$(pkg-config --cflags --libs dtmetrics 2>&1); then
    echo "FAIL: pkg-config --cflags --libs dtmetrics: $flags"
    exit 1
fi
libso=$(find "$dest" -name 'libdtmetrics.so*' | head -n 1)
echo "pkg-config: $flags"

cat >"$tmp/prog.c" <<'EOF'
#include <dtmetrics.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(dtm_version(), DTM_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, header %s\n", dtm_version(), DTM_VERSION_STRING);
        return 1;
    }
    printf("dtmetrics %s: %s\n", dtm_version(), dtm_strerror(DTM_OK));
    return 0;
}
EOF

# The build's own CFLAGS/LDFLAGS: a sanitizer build needs its runtime here too.
# shellcheck disable=SC2086
if ! $CC ${DTM_CFLAGS:-} ${DTM_LDFLAGS:-} -o "$tmp/prog" "$tmp/prog.c" $flags; then
    echo "FAIL: a program does not build with the flags pkg-config gives"
    exit 1
fi
libdir=$(dirname "${libso:-$dest}")
if ! LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$tmp/prog"; then
    echo "FAIL: the program linked against the installed library does not run"
    exit 1
fi
exit 0

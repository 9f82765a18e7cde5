#!/bin/sh
# Regenerate the build system from a fresh checkout.
exec autoreconf -fi "$@"

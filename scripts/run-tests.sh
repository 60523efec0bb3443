#!/usr/bin/env bash
# Sets up, configures, builds (-j2) and runs every test; exits with ctest's
# status. Works from any directory. Extra arguments go to ctest
# (e.g. -L install, -R journal).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup-debian.sh --tests
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2

# Two tests at a time by default (CTEST_PARALLEL_LEVEL=1 for one): every test
# uses its own temporary directory, and the install test, which compiles, is
# RUN_SERIAL so it never runs beside another test.
status=0
ctest --test-dir build --output-on-failure -j "${CTEST_PARALLEL_LEVEL:-2}" "$@" || status=$?
exit "$status"

#!/usr/bin/env bash
# Sets up, builds and runs the quickstart sample; arguments go to the sample
# (e.g. --memory, --db PATH). Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2 --target quickstart  # only what the sample needs
exec ./build/samples/quickstart "$@"

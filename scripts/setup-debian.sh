#!/usr/bin/env bash
# Installs what Interlock needs to build and test on Debian bookworm, and only
# what is missing (idempotent: does nothing, not even apt-get update, when all
# is there). Uses sudo only when not root. With --tests it also installs what
# only the tests run (servers and browsers the tests start themselves).
set -euo pipefail

packages=(
  build-essential     # g++ (C++20), make
  cmake               # >= 3.25 (bookworm: 3.25.1)
  libcaf-dev          # CAF 0.17: core + io
  libsqlite3-dev      # the SQLite journal
  libpq-dev           # libpq: the PostgreSQL journal's client library
  nlohmann-json3-dev  # JSON codec
  catch2              # Catch2 v2 test suite
  libcli11-dev        # CLI11 (header-only): the command line of build/tools/interlock-journal
  libcpp-httplib-dev  # cpp-httplib: the debug console's web view (`debug serve`)
  pkgconf             # pkg-config, how CMake finds cpp-httplib (Debian ships no CMake package for it)
  sqlite3             # sqlite3 shell, to inspect journals by hand
  libgoogle-perftools-dev  # tcmalloc, the samples' and the benchmark's malloc (cmake/InterlockAllocator.cmake)
)
# Only the tests use these; the sample's set-up does not install them.
test_packages=(
  postgresql          # the server of the throwaway cluster the PostgreSQL tests start (scripts/postgres-test-cluster.sh)
  chromium            # headless, loads the debug console's web view in tests/debug_web_test.cpp
)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-debian: all packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup-debian: missing ${missing[*]}, and not root and no sudo to install them" >&2
  exit 1
fi

echo "setup-debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

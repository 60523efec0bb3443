#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a
# private data folder, and a Unix socket in DIR only (no TCP port, so nothing
# else on the machine can reach it or clash with it).
#
#   scripts/postgres-test-cluster.sh start DIR [--durable]  # prints the connection URL, also left in DIR/url
#   scripts/postgres-test-cluster.sh stop DIR    # stops it and removes its data
#   scripts/postgres-test-cluster.sh crash DIR   # stops the server at once (-m immediate: what a crash
#                                                # leaves), keeping its data
#   scripts/postgres-test-cluster.sh restart DIR # starts the server again on that data (it recovers)
#
# start stops and wipes a cluster left in DIR by an earlier run that was
# killed, so it always starts empty. It creates one database, interlock_test:
# CREATE DATABASE costs 0.5-0.85 s, so the tests share it and keep apart by
# schema. initdb refuses to run as root: as root, the server runs as the
# `postgres` user (runuser), which must be able to reach DIR.
# The cluster trades durability for speed (fsync off): nothing in it is
# meant to survive a crash of the machine. Nor, by default, a crash of the
# server (synchronous_commit off: a COMMIT is answered before its WAL is
# written). --durable keeps PostgreSQL's defaults (fsync, full_page_writes,
# synchronous_commit on), so a commit waits for its WAL flush as on a real
# server: for tests that crash the server (crash, restart) and expect every
# answered COMMIT to be there after it, and for benchmarks.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [--durable] | stop|crash|restart DIR" >&2
  exit 2
}
[[ $# -eq 2 || ( $# -eq 3 && "$1" == start && "$3" == --durable ) ]] || usage
action=$1
dir=$2
durable=${3:-}
[[ "$action" =~ ^(start|stop|crash|restart)$ ]] || usage

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "postgres-test-cluster: no PostgreSQL server under /usr/lib/postgresql (install it: scripts/setup-debian.sh --tests)" >&2
  exit 1
fi

# Runs a server command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir/data" "$dir/url" "$dir/durable"
}

start_server() {
  local speed="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
  [[ -f "$dir/durable" ]] && speed="-c fsync=on -c full_page_writes=on -c synchronous_commit=on"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir $speed -c max_connections=200" \
    start >/dev/null || {
    echo "postgres-test-cluster: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
  }
}

if [[ "$action" == stop ]]; then
  stop_cluster
  exit 0
fi
if [[ "$action" == crash ]]; then
  [[ -f "$dir/data/postmaster.pid" ]] || { echo "postgres-test-cluster: no server running in $dir" >&2; exit 1; }
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
  exit 0
fi
if [[ "$action" == restart ]]; then
  [[ -d "$dir/data" ]] || { echo "postgres-test-cluster: no cluster in $dir (start it first)" >&2; exit 1; }
  dir=$(cd "$dir" && pwd)
  start_server
  exit 0
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stop_cluster
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    echo "postgres-test-cluster: user postgres cannot write to $dir (a parent folder it cannot enter?)" >&2
    exit 1
  fi
fi
# A socket path is limited to 107 bytes (sun_path): .s.PGSQL.5432 is added to DIR.
if (( ${#dir} > 90 )); then
  echo "postgres-test-cluster: $dir is too long for a Unix socket path (at most 90 characters)" >&2
  exit 1
fi

if [[ "$durable" == --durable ]]; then touch "$dir/durable"; fi
as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
  echo "postgres-test-cluster: initdb failed; its log:" >&2
  cat "$dir/initdb.log" >&2
  exit 1
}
start_server
as_owner "$bindir/psql" -h "$dir" -U postgres -d postgres -qAt -c "CREATE DATABASE interlock_test" >/dev/null
url="postgresql:///interlock_test?host=$dir&user=postgres"
echo "$url" >"$dir/url"
echo "$url"

#!/usr/bin/env bash
# Ebling's benchmarks: ingestion, then queries, against a private PostgreSQL server.
#
#   benchmarks/run.sh [--reuse] [all|ingest|queries]
#
#   --reuse               keep the query benchmark's database if an earlier run loaded it
#                         completely (loading a year of history takes minutes)
#   EBLING_REVISION=REV   measure Ebling as committed at REV (a commit, tag or branch)
#                         instead of the working tree, e.g. to compare before and after
#   BENCH_PG_PORT=PORT    PostgreSQL's port (55432)
#
# PostgreSQL keeps fsync on (PG_DURABLE=1), as in production; its data directory, the
# servers' logs and the results (JSON, and the run's output) stay in benchmarks/.data/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/benchmarks/.data"
pg_data="$data/pg"  # absolute: PostgreSQL resolves its socket directory from its own cwd
port=${BENCH_PG_PORT:-55432}
postgres_url="postgresql://postgres@127.0.0.1:$port"

reuse=()
which=all
for argument in "$@"; do
  case "$argument" in
    --reuse) reuse=(--reuse) ;;
    all|ingest|queries) which=$argument ;;
    *) echo "usage: benchmarks/run.sh [--reuse] [all|ingest|queries]" >&2; exit 2 ;;
  esac
done

if [ -n "${EBLING_REVISION:-}" ]; then
  # A copy of that revision's source, ahead of the workspace's on the import path, so the
  # benchmark and the server it starts (which inherits the environment) both use it.
  revision=$(git -C "$root" rev-parse --short "$EBLING_REVISION")
  snapshot="$data/ebling-$revision"
  rm -rf "$snapshot"
  mkdir -p "$snapshot"
  git -C "$root" archive "$revision" packages/ebling/src | tar -x -C "$snapshot"
  export PYTHONPATH="$snapshot/packages/ebling/src${PYTHONPATH:+:$PYTHONPATH}"
  export EBLING_BENCH_REVISION="$revision (from git archive)"
fi

mkdir -p "$data/results"
PG_DURABLE=1 "$root/scripts/services/postgres.sh" start "$pg_data" "$port"
trap '"$root/scripts/services/postgres.sh" stop "$pg_data"' EXIT
# Stock settings, except room for the WAL that loading ten million rows writes; with the
# default 1 GB the load would spend its time in back-to-back checkpoints.
psql -h 127.0.0.1 -p "$port" -U postgres -q \
  -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "SELECT pg_reload_conf()" >/dev/null

cd "$root"
log="$data/results/run-$(date -u +%Y%m%dT%H%M%SZ).log"
# httpx is the benchmarks' own need; --with adds it for this run without touching the lock.
bench=(uv run --with 'httpx>=0.28' python)
{
  if [ "$which" != queries ]; then
    "${bench[@]}" benchmarks/bench_ingest.py --postgres "$postgres_url" --pg-data "$pg_data"
  fi
  if [ "$which" != ingest ]; then
    "${bench[@]}" benchmarks/bench_queries.py --postgres "$postgres_url" "${reuse[@]}"
  fi
} 2>&1 | tee "$log"
echo "The run's output is in $log" >&2

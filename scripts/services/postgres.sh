#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests and benchmarks, from Debian's packages.
#
#   postgres.sh start <data_dir> <port>   install if missing, initialise, start, wait
#   postgres.sh stop <data_dir>
#
# It listens on 127.0.0.1 only and trusts local connections: it holds test data, nothing else.
set -euo pipefail

command=${1:?usage: postgres.sh start|stop <data_dir> [port]}
data_dir=${2:?data directory required}
port=${3:-54329}

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

install_postgres() {
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# initdb and postgres refuse to run as root; run them as the packaged 'postgres' user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ]; then
      install_postgres
      bin=$(find_bin)
    fi
    mkdir -p "$data_dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data_dir"
    if [ ! -f "$data_dir/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    options="-p $port -h 127.0.0.1 -k $data_dir -c max_connections=200"
    # Tests trade durability for speed, since their data is thrown away; benchmarks set
    # PG_DURABLE=1 to measure what production would see.
    if [ "${PG_DURABLE:-0}" != 1 ]; then
      options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_postgres "$bin/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 start \
      -o "$options" >/dev/null
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
    ;;
  stop)
    bin=$(find_bin)
    if [ -n "$bin" ] && [ -f "$data_dir/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null || true
    fi
    ;;
  *)
    echo "usage: postgres.sh start|stop <data_dir> [port]" >&2
    exit 2
    ;;
esac

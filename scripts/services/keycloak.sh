#!/usr/bin/env bash
# A throw-away Keycloak for tests and the demo: Keycloak's Quarkus distribution from Maven,
# cached per version, started in dev mode (an H2 database in its directory) with the
# platform's realm (deploy/keycloak) imported at start.
#
#   keycloak.sh fetch                    ensure the cached distribution exists
#   keycloak.sh start <dir> <port>       copy it to <dir>, import the realm, start, wait
#   keycloak.sh stop <dir>               stop the server started for <dir>
#
# It listens on 127.0.0.1:<port> only; health and metrics are on the management port
# (KEYCLOAK_MANAGEMENT_PORT, default <port> + 10000). The issuer is
# http://127.0.0.1:<port>/realms/automation.
#
# Env:
#   KC_BOOTSTRAP_ADMIN_USERNAME / KC_BOOTSTRAP_ADMIN_PASSWORD  the master realm's admin
#       (default: admin and a random password, written to <dir>/admin.env)
#   TRILLIAN_CLIENT_SECRET, ARCADIA_AIRFLOW_CLIENT_SECRET, ARCADIA_DAGSTER_CLIENT_SECRET,
#   ARCADIA_PREFECT_CLIENT_SECRET  the clients' secrets, put into the realm by Keycloak's
#       ${VAR} placeholders at import (default: random, written to <dir>/client-secrets.env)
#   KEYCLOAK_IMPORT_DIR  extra realm files to import beside deploy/keycloak (a test overlay)
#   KEYCLOAK_VERSION, PLATFORM_CACHE_DIR, JAVA (the java command; Keycloak 26 needs 17+)
set -euo pipefail

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
ARTIFACT="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip"
CACHE_DIR="${PLATFORM_CACHE_DIR:-$HOME/.cache/automation-platform}/keycloak/$KEYCLOAK_VERSION"
DIST="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
REALM_DIR="$(cd "$(dirname "$0")/../.." && pwd)/deploy/keycloak"
READY_TIMEOUT_S=${KEYCLOAK_READY_TIMEOUT_S:-240}
CLIENT_SECRET_VARS=(TRILLIAN_CLIENT_SECRET ARCADIA_AIRFLOW_CLIENT_SECRET
  ARCADIA_DAGSTER_CLIENT_SECRET ARCADIA_PREFECT_CLIENT_SECRET)

SERVICE=keycloak.sh
# shellcheck source=scripts/services/_common.sh
source "$(dirname "$0")/_common.sh"

usage() {
  echo "usage: $0 fetch | start <dir> <port> | stop <dir>" >&2
  exit 2
}

random_secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40; }

install_tools() {
  [[ "$(id -u)" = 0 ]] || die "mvn and unzip are needed: install Maven and unzip (Debian: maven unzip)"
  log "installing Maven and unzip from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq maven unzip >&2
}

cmd_fetch() {
  if [[ -x "$DIST/bin/kc.sh" ]]; then
    return 0
  fi
  if ! command -v mvn >/dev/null || ! command -v unzip >/dev/null; then
    install_tools
  fi
  mkdir -p "$CACHE_DIR"
  local start=$SECONDS tmp
  tmp=$(mktemp -d "$CACHE_DIR/fetch.XXXXXX")
  log "downloading $ARTIFACT (about 180 MB, once)"
  # Maven resolves and checksums the artifact from the configured repositories; running it
  # outside any project keeps a stray pom.xml in the caller's directory out of it.
  (cd "$tmp" && mvn -q -B dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp" >&2) \
    || { rm -rf "$tmp"; die "mvn could not fetch $ARTIFACT"; }
  unzip -q "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp" \
    || { rm -rf "$tmp"; die "could not unpack the distribution"; }
  # Rename into place last, so an interrupted fetch never leaves a half-unpacked cache.
  rm -rf "$DIST"
  mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$DIST"
  rm -rf "$tmp"
  log "cached $DIST in $((SECONDS - start))s"
}

# Write NAME=value lines for the given variables to a file only the owner can read.
write_env_file() {
  local file=$1 name
  shift
  (umask 077 && : >"$file")
  for name in "$@"; do
    printf '%s=%s\n' "$name" "${!name}" >>"$file"
  done
}

# Dev mode first rebuilds ("re-augments") the distribution for its profile, which takes
# longer than the start itself, and cannot be done ahead with 'kc.sh build'. So the first
# instance's result is kept in the cache, and later copies start without the rebuild.
keep_dev_build() {
  local home=$1 marker="$DIST/.dev-build" tmp
  [[ -f "$marker" ]] && return 0
  tmp=$(mktemp -d "$DIST/lib/quarkus.XXXXXX")
  cp -r "$home/lib/quarkus/." "$tmp/"
  rm -rf "$DIST/lib/quarkus"
  mv "$tmp" "$DIST/lib/quarkus"
  touch "$marker"
}

cmd_start() {
  [[ $# -eq 2 ]] || usage
  local dir=$1 port=$2
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1024 || port > 55000)); then
    die "port must be a number in 1024..55000, got '$port'"
  fi
  local management_port=${KEYCLOAK_MANAGEMENT_PORT:-$((port + 10000))}
  local java=${JAVA:-java}
  command -v "$java" >/dev/null || die "java not found (Keycloak 26 needs Java 17 or later)"

  cmd_fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local pid_file="$dir/keycloak.pid" log_file="$dir/keycloak.log" home="$dir/keycloak"
  if [[ -f "$pid_file" ]] && pid_alive "$(cat "$pid_file")"; then
    die "already running for $dir (pid $(cat "$pid_file"))"
  fi
  local probe
  for probe in "$port" "$management_port"; do
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$probe/"; then
      die "something already answers on 127.0.0.1:$probe"
    fi
  done

  # Each instance runs from a copy of the distribution (a second or two): dev mode rebuilds
  # its optimised classpath into lib/ and keeps its database in data/, and neither may be
  # shared by two instances, or touch the cache.
  rm -rf "$home"
  cp -r "$DIST" "$home"
  mkdir -p "$home/data/import"
  cp "$REALM_DIR"/*.json "$home/data/import/"
  if [[ -n "${KEYCLOAK_IMPORT_DIR:-}" ]]; then
    cp "$KEYCLOAK_IMPORT_DIR"/*.json "$home/data/import/"
  fi

  export KC_BOOTSTRAP_ADMIN_USERNAME=${KC_BOOTSTRAP_ADMIN_USERNAME:-admin}
  export KC_BOOTSTRAP_ADMIN_PASSWORD=${KC_BOOTSTRAP_ADMIN_PASSWORD:-$(random_secret)}
  write_env_file "$dir/admin.env" KC_BOOTSTRAP_ADMIN_USERNAME KC_BOOTSTRAP_ADMIN_PASSWORD
  # The realm file names its client secrets as ${VAR} placeholders, which Keycloak fills in
  # from its environment at import. An unset variable would be imported literally, a secret
  # anyone can read in the repository, so each gets a random value unless it is given.
  local name
  for name in "${CLIENT_SECRET_VARS[@]}"; do
    export "$name=${!name:-$(random_secret)}"
  done
  write_env_file "$dir/client-secrets.env" "${CLIENT_SECRET_VARS[@]}"

  local args=(
    start-dev
    --import-realm
    --http-host=127.0.0.1 --http-port="$port"
    # A fixed issuer, whichever name a client uses to reach it.
    --hostname="http://127.0.0.1:$port"
    --http-management-port="$management_port"
    --health-enabled=true --metrics-enabled=true
    --log=file --log-file="$log_file" --log-level=info
  )
  log "starting Keycloak $KEYCLOAK_VERSION on 127.0.0.1:$port (management :$management_port, log: $log_file)"
  # A small heap: this is a test server on a shared machine, not a production one. stdio
  # goes to a file, never the caller's pipes, so a capturing caller does not hang on them.
  (cd "$home" && JAVA="$(command -v "$java")" JAVA_OPTS_KC_HEAP="-Xms128m -Xmx768m" \
    exec bin/kc.sh "${args[@]}" </dev/null >"$dir/keycloak.out" 2>&1) &
  local pid=$!
  echo "$pid" >"$pid_file"

  local deadline=$((SECONDS + READY_TIMEOUT_S)) start=$SECONDS
  local discovery="http://127.0.0.1:$port/realms/automation/.well-known/openid-configuration"
  while ((SECONDS < deadline)); do
    if ! pid_alive "$pid"; then
      log "Keycloak exited during startup; last lines:"
      tail -n 40 "$dir/keycloak.out" >&2
      rm -f "$pid_file"
      exit 1
    fi
    # Ready: the server says so, and the realm has been imported (its discovery document).
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$management_port/health/ready" \
      && curl -sf -o /dev/null --max-time 2 "$discovery"; then
      log "ready in $((SECONDS - start))s: http://127.0.0.1:$port (pid $pid)"
      keep_dev_build "$home"
      return 0
    fi
    sleep 1
  done
  log "Keycloak was not ready within ${READY_TIMEOUT_S}s; last lines:"
  tail -n 40 "$dir/keycloak.out" >&2
  cmd_stop "$dir" || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  stop_by_pid_file "$1/keycloak.pid" keycloak
}

case "${1:-}" in
  fetch) shift; [[ $# -eq 0 ]] || usage; cmd_fetch ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac

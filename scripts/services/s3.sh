#!/usr/bin/env bash
# A real S3-compatible server for tests: SeaweedFS (Apache-2.0), built from its
# Go module and cached per version, so only the first run pays for the build.
#
#   s3.sh build                  ensure the cached `weed` binary exists
#   s3.sh start <data_dir> <port> run an S3 gateway on 127.0.0.1:<port>
#   s3.sh stop <data_dir>         stop the server started for <data_dir>
#
# Env: S3_ACCESS_KEY / S3_SECRET_KEY (static credentials), PLATFORM_CACHE_DIR
# (cache root), GO (go command to use), SEAWEEDFS_VERSION (module version).
set -euo pipefail

SEAWEEDFS_MODULE="github.com/seaweedfs/seaweedfs"
# A pseudo-version pins an exact commit; bump deliberately, the cache is keyed on it.
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
CACHE_DIR="${PLATFORM_CACHE_DIR:-$HOME/.cache/automation-platform}/seaweedfs/$SEAWEEDFS_VERSION"
WEED="$CACHE_DIR/weed"
GO="${GO:-go}"
READY_TIMEOUT_S=120

SERVICE=s3.sh
# shellcheck source=scripts/services/_common.sh
source "$(dirname "$0")/_common.sh"

usage() {
  echo "usage: $0 build | start <data_dir> <port> | stop <data_dir>" >&2
  exit 2
}

cmd_build() {
  if [[ -x "$WEED" ]]; then
    log "weed $SEAWEEDFS_VERSION already built: $WEED"
    return 0
  fi
  command -v "$GO" >/dev/null || die "go toolchain not found (put go on PATH or set GO)"
  mkdir -p "$CACHE_DIR"

  # `go install $SEAWEEDFS_MODULE/weed@<version>` is refused because SeaweedFS's
  # go.mod carries a replace directive. So fetch the module source (checksummed
  # by the go command) and build it as the main module, which honours it.
  log "downloading $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION"
  local json src
  # Run from the cache dir so an unrelated go.mod in the caller's cwd is ignored,
  # and blank GOFLAGS so the caller's settings (e.g. -mod=vendor) do not leak in.
  json=$(cd "$CACHE_DIR" && GOFLAGS='' "$GO" mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION") \
    || die "go mod download failed: $json"
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -n "$src" && -d "$src" ]] || die "module source dir not found in: $json"

  log "building weed (several minutes on a small machine; cached afterwards)"
  local start=$SECONDS tmp="$WEED.tmp.$$"
  # Build to a temp name and rename: a concurrent or interrupted build never
  # leaves a half-written binary at the cached path.
  (cd "$src" && GOFLAGS='' "$GO" build -o "$tmp" ./weed) || { rm -f "$tmp"; die "go build failed"; }
  mv -f "$tmp" "$WEED"
  log "built $WEED in $((SECONDS - start))s"
}

cmd_start() {
  [[ $# -eq 2 ]] || usage
  local data_dir=$1 port=$2
  # Internal ports are derived from <port> (gRPC ones at +10000), so keep room.
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1024 || port > 55000)); then
    die "port must be a number in 1024..55000, got '$port'"
  fi

  cmd_build
  mkdir -p "$data_dir/data"
  data_dir=$(cd "$data_dir" && pwd)
  local pid_file="$data_dir/weed.pid" log_file="$data_dir/weed.log"
  if [[ -f "$pid_file" ]] && pid_alive "$(cat "$pid_file")"; then
    die "already running for $data_dir (pid $(cat "$pid_file"))"
  fi

  # Otherwise another listener on <port> would pass the readiness probe below.
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    die "something already answers on 127.0.0.1:$port"
  fi

  local access_key="${S3_ACCESS_KEY:-ebling-test}" secret_key="${S3_SECRET_KEY:-ebling-test-secret}"
  # Written into JSON verbatim, so keep them to characters that need no escaping.
  [[ "$access_key$secret_key" != *[\"\\]* ]] || die "S3 keys must not contain quotes or backslashes"
  # Static identity: full rights for the test client, no anonymous access.
  local s3_config="$data_dir/s3.json"
  (umask 077 && cat >"$s3_config" <<EOF
{
  "identities": [
    {
      "name": "test",
      "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
EOF
  )

  # `weed mini` is SeaweedFS's single-process dev/test mode: master, volume,
  # filer, S3 and an admin server. Over `weed server -s3` it shuts down in ~3 s
  # instead of ~18 s and defaults new buckets to one volume each. The internal
  # HTTP ports sit next to <port>; SeaweedFS puts each gRPC port at +10000.
  local args=(
    -logtostderr                          # whole log to weed.log, no files in the temp dir
    mini
    -ip=127.0.0.1 -ip.bind=127.0.0.1      # advertise and bind loopback only (default 0.0.0.0)
    -dir="$data_dir/data"
    -s3.port="$port" -master.port=$((port + 1)) -volume.port=$((port + 2))
    -filer.port=$((port + 3)) -admin.port=$((port + 4))
    -admin.port.legacy=0                  # else also listens on a fixed compat port
    -s3.config="$s3_config"
    -webdav=false -admin.ui=false         # not needed for tests
    -s3.port.iceberg=0 -s3.port.lance=0   # catalog listeners on fixed default ports
    -master.telemetry=false               # it would phone home otherwise
    # Every bucket is its own collection and takes a volume slot; slots are
    # free disk / volume size, so small volumes leave room for many buckets
    # (volume files grow only as data is written).
    -master.volumeSizeLimitMB=64
  )
  log "starting SeaweedFS S3 on 127.0.0.1:$port (data: $data_dir, log: $log_file)"
  # cwd = data_dir so no stray master.toml/filer.toml in the caller's cwd is
  # picked up. Empty environment: weed reads many variables (AWS_ACCESS_KEY_ID
  # adds an admin identity, S3_BUCKET pre-creates a bucket, WEED_* override its
  # config), and the server must not depend on the caller's shell. stdio goes
  # to the log, never the caller's pipes, so a capturing caller (subprocess
  # with capture_output) does not hang waiting on them.
  (cd "$data_dir" && exec env -i HOME="$HOME" PATH="$PATH" "$WEED" "${args[@]}" \
    </dev/null >"$log_file" 2>&1) &
  local pid=$!
  echo "$pid" >"$pid_file"

  # Ready = the S3 endpoint answers HTTP at all (403 without credentials is fine).
  local deadline=$((SECONDS + READY_TIMEOUT_S)) code
  while ((SECONDS < deadline)); do
    if ! pid_alive "$pid"; then
      log "weed exited during startup; last log lines:"
      tail -n 40 "$log_file" >&2
      rm -f "$pid_file"
      exit 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
    if [[ "$code" != "000" ]]; then
      log "ready: http://127.0.0.1:$port (pid $pid)"
      return 0
    fi
    sleep 0.5
  done
  log "S3 endpoint did not answer within ${READY_TIMEOUT_S}s; last log lines:"
  tail -n 40 "$log_file" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  stop_by_pid_file "$1/weed.pid" weed
}

case "${1:-}" in
  build) shift; [[ $# -eq 0 ]] || usage; cmd_build ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac

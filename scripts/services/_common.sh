# Helpers the service scripts share; each sets SERVICE (its name, for messages) and sources
# this file.

log() { printf '%s: %s\n' "$SERVICE" "$*" >&2; }
die() { log "error: $*"; exit 1; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# wait_gone <pid> <seconds>: succeed once pid has exited, fail on timeout.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    pid_alive "$1" || return 0
    sleep 0.1
  done
  return 1
}

# stop_by_pid_file <pid_file> <name>: stop the process the file names and wait until it is
# gone, so callers can reuse its ports and data. A stale file may name a pid since reused by
# something else; a process whose command line does not mention <name> is left be.
stop_by_pid_file() {
  local pid_file=$1 name=$2 pid
  if [[ ! -f "$pid_file" ]]; then
    log "not running (no $pid_file)"
    return 0
  fi
  pid=$(cat "$pid_file")
  if ! pid_alive "$pid" || ! grep -qa -- "$name" "/proc/$pid/cmdline" 2>/dev/null; then
    log "not running (stale pid file $pid_file)"
  else
    kill "$pid"
    # SIGTERM shuts down cleanly; force it only if that hangs.
    wait_gone "$pid" 30 || { log "pid $pid still running after SIGTERM, killing"; kill -9 "$pid" 2>/dev/null || true; }
    wait_gone "$pid" 5 || die "pid $pid did not exit"
    log "stopped (pid $pid)"
  fi
  rm -f "$pid_file"
}

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

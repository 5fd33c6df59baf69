#!/usr/bin/env bash
# A throw-away Dovecot IMAP server for tests, from Debian's packages.
#
#   dovecot.sh start <dir> <imap_port> <imaps_port>   install if missing, configure, start, wait
#   dovecot.sh stop <dir>
#
# Everything lives under <dir>: its own dovecot.conf, a self-signed certificate (<dir>/cert.pem,
# for clients to trust), the users file, the HS256 key that OAuth2 test tokens are signed with
# (<dir>/oauth2-hs256.key, base64), the mail (<dir>/mail/<user>, Maildir) and the log
# (<dir>/dovecot.log). The system's /etc/dovecot and its service are left alone. It listens on
# 127.0.0.1 only and knows two test users, user1/pass1 and user2/pass2: it holds test mail,
# nothing else.
set -euo pipefail

usage() {
  echo "usage: dovecot.sh start <dir> <imap_port> <imaps_port> | stop <dir>" >&2
  exit 2
}

log() { printf 'dovecot.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || usage

# Debian puts the daemons in /usr/sbin, which a non-root PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
READY_TIMEOUT_S=30

install_dovecot() {
  log "installing dovecot-imapd from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # The package's own service is not what the tests use, and is left as the package sets it
  # up: without an init system (a container) it does not run; with one it runs from
  # /etc/dovecot on the standard ports, apart from this instance.
  apt-get install -y -qq dovecot-imapd >&2
}

# The users that Dovecot's processes and the mail run as. Dovecot refuses to give mail to
# root (uid 0) and wants unprivileged users for its internal and login processes; as root we
# use the 'dovecot' and 'dovenull' users that the package creates, otherwise our own user.
resolve_users() {
  if [ "$(id -u)" = 0 ]; then
    internal_user=dovecot
    login_user=dovenull
    mail_user=dovecot
  else
    internal_user=$(id -un)
    login_user=$internal_user
    mail_user=$internal_user
  fi
  mail_uid=$(id -u "$mail_user")
  mail_gid=$(id -g "$mail_user")
}

# Wait until the plain IMAP port greets with "* OK" and the IMAPS port accepts connections.
wait_ready() {
  local imap_port=$1 imaps_port=$2 deadline=$((SECONDS + READY_TIMEOUT_S)) greeting
  while [ "$SECONDS" -lt "$deadline" ]; do
    greeting=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$imap_port && head -c 4 <&3" \
      2>/dev/null || true)
    if [ "$greeting" = "* OK" ] && timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$imaps_port" \
      2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 20 "$dir/dovecot.log" >&2 || true
  die "Dovecot did not answer on 127.0.0.1:$imap_port within ${READY_TIMEOUT_S}s (log above)"
}

write_config() {
  local imap_port=$1 imaps_port=$2
  cat >"$dir/dovecot.conf" <<EOF
# Written by scripts/services/dovecot.sh for tests; nothing here is meant for production.
# Every path points into this directory so that the instance shares nothing with the system's.
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log

protocols = imap
listen = 127.0.0.1

default_internal_user = $internal_user
default_login_user = $login_user
# The mail uid is a system user (a low uid), which Dovecot refuses by default.
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid

# Clients verify the server against cert.pem, which this script generated.
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem

# Test users sign in with plain passwords; allowed without TLS too, so that the tests can
# exercise a client configured with security="none" (on 127.0.0.1 only).
auth_mechanisms = plain login xoauth2 oauthbearer
disable_plaintext_auth = no
# Failed sign-ins are logged with their reason (never the password), for whoever debugs a test.
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
# OAuth2 bearer tokens (what Gmail and Microsoft 365 want) are checked here without an
# identity provider: JWTs signed with the HS256 key in oauth2-hs256.key, naming the user in
# "sub". A test mints its own tokens with that key.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/oauth2.conf
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}

mail_location = maildir:$dir/mail/%u

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
}

# A test suite connects far more often than a person's mail client.
mail_max_userip_connections = 1000
EOF
}

# The key a token's signature is checked with, where Dovecot's dict looks it up: the key
# "shared/<azp>/<alg>/<kid>" ("default" for an absent azp or kid), which the fs dict stores
# as the file <prefix><azp>/<alg>/<kid>.
write_oauth2_config() {
  local key_dir=$dir/oauth2-keys/default/HS256
  if [ ! -f "$dir/oauth2-hs256.key" ]; then
    openssl rand -base64 32 | tr -d '\n' >"$dir/oauth2-hs256.key"
  fi
  mkdir -p "$key_dir"
  cp "$dir/oauth2-hs256.key" "$key_dir/default"
  chmod -R go+rX "$dir/oauth2-keys"
  chmod 644 "$dir/oauth2-hs256.key"
  cat >"$dir/oauth2.conf" <<EOF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$dir/oauth2-keys/
username_attribute = sub
EOF
}

start() {
  local imap_port=${1:?imap port required} imaps_port=${2:?imaps port required}
  command -v dovecot >/dev/null 2>&1 || install_dovecot
  command -v dovecot >/dev/null 2>&1 || die "dovecot is still missing after installing dovecot-imapd"
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (apt-get install openssl)"
  resolve_users

  mkdir -p "$dir/mail" "$dir/state"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null; then
    die "a Dovecot for $dir is already running (dovecot.sh stop $dir)"
  fi

  # The mail processes run as $mail_user and must reach $dir/mail through every parent.
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ] && ! runuser -u "$mail_user" -- test -x "$dir/mail"; then
    die "user $mail_user cannot reach $dir/mail: use a directory whose parents are world-searchable"
  fi
  chown "$mail_uid:$mail_gid" "$dir/mail"

  if [ ! -f "$dir/cert.pem" ]; then
    # The IP address is in the certificate because clients connect to 127.0.0.1 and check
    # the name they dialled against it.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 \
      || die "openssl could not create a self-signed certificate in $dir"
    chmod 600 "$dir/key.pem"
    chmod 644 "$dir/cert.pem"
  fi

  # passwd-file: user:password:uid:gid:gecos:home:shell. A fixed uid/gid that owns the mail.
  local user
  : >"$dir/users"
  for user in user1:pass1 user2:pass2; do
    printf '%s:{PLAIN}%s:%s:%s::%s::\n' "${user%%:*}" "${user#*:}" "$mail_uid" "$mail_gid" \
      "$dir/mail/${user%%:*}" >>"$dir/users"
  done
  chmod 644 "$dir/users"

  write_oauth2_config
  write_config "$imap_port" "$imaps_port"
  # The daemon must not hold on to our stdout and stderr: a caller reading them through a pipe
  # (CI, `| tail`) would wait for it to exit. Start-up errors land in startup.log instead.
  if ! dovecot -c "$dir/dovecot.conf" </dev/null >"$dir/startup.log" 2>&1; then
    cat "$dir/startup.log" >&2
    die "Dovecot refused to start (above; and $dir/dovecot.log)"
  fi
  wait_ready "$imap_port" "$imaps_port"
  log "$(dovecot --version | awk '{print "Dovecot " $1}') on 127.0.0.1:$imap_port (IMAP," \
    "STARTTLS) and 127.0.0.1:$imaps_port (IMAPS); certificate $dir/cert.pem"
}

stop() {
  local pid_file=$dir/run/master.pid pid
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null || return 0
  # The master stops its children before it exits; wait so that the ports are free again.
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "Dovecot (pid $pid) did not stop within 10s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

case "$command" in
  start)
    shift 2
    [ $# -eq 2 ] || usage
    start "$@"
    ;;
  stop) stop ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Makes sure the servers the tests and fleet fixtures use answer on loopback:
#   PostgreSQL 127.0.0.1:5432 (trust, user postgres), MariaDB 127.0.0.1:3306 (root, no password),
#   Redis 127.0.0.1:6379. Installs openssh-server (for later SSH tests), PostgreSQL 15's binaries
#   and repmgr (for the postgres-streaming test clusters) without starting them.
# A service that already answers is never stopped or reconfigured. Debian/Ubuntu only.
set -euo pipefail

WAIT_SECONDS=30
APT_UPDATED=0
FAILED=0

note() { echo "  … $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# A TCP connect, without needing any client tool installed.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_ok() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; }
my_ok() { mariadb -h 127.0.0.1 -P 3306 -uroot --connect-timeout=2 -e 'select 1' >/dev/null 2>&1; }
redis_ok() { [ "$(timeout 2 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

# Polls "$@" until it succeeds, at most WAIT_SECONDS.
wait_for() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.3
  done
}

apt_install() {
  [ "$#" -gt 0 ] || return 0
  # Docker images ship a policy-rc.d that stops package scripts from starting daemons; elsewhere
  # install one for the duration, so sshd stays stopped and we start the databases our way.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    own_policy=1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    note "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  note "apt-get install $*"
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || rc=$?
  [ "$own_policy" -eq 0 ] || as_root rm -f "$policy"
  return "$rc"
}

pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1; }

pg_fix() {
  local ver hba
  ver=$(pg_version)
  if [ -z "$ver" ] || [ ! -d "/etc/postgresql/$ver/main" ]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    note "creating PostgreSQL cluster $ver/main"
    as_root pg_createcluster "$ver" main >/dev/null
  fi
  if ! port_open 127.0.0.1 5432; then
    note "starting PostgreSQL $ver/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    wait_for port_open 127.0.0.1 5432 || return 1
  fi
  pg_ok && return 0
  # Listening but refusing us: a fresh install wants passwords on TCP. Trust loopback first.
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    note "trusting loopback TCP in $hba"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  fi
}

my_fix() {
  if ! port_open 127.0.0.1 3306; then
    as_root install -d -o mysql -g mysql /run/mysqld /var/log/mysql
    if [ ! -d /var/lib/mysql/mysql ]; then
      note "initialising /var/lib/mysql"
      as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    note "starting MariaDB"
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_for port_open 127.0.0.1 3306 || return 1
  fi
  my_ok && return 0
  # Fresh Debian: root@localhost is unix_socket only, and with skip-name-resolve a TCP client from
  # 127.0.0.1 is not "localhost". Allow an empty password for both, keep socket login working.
  note "allowing root without password over loopback TCP"
  as_root mariadb --protocol=socket -uroot <<'SQL'
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS root@'::1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO root@'::1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

redis_fix() {
  port_open 127.0.0.1 6379 && return 0 # something listens; only waiting can help
  as_root mkdir -p /var/lib/redis /var/log/redis
  note "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null
}

# 1. What is missing? Only services that do not answer are considered for installation.
missing=()
pg_ok || { command -v pg_ctlcluster >/dev/null && command -v psql >/dev/null || missing+=(postgresql); }
my_ok || { [ -x /usr/sbin/mariadbd ] && command -v mariadb >/dev/null || missing+=(mariadb-server); }
redis_ok || { command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server); }
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
# Test clusters of the postgres-streaming flavour (initdb, pg_rewind, pg_basebackup) and repmgr,
# the failover baseline (test/helpers/pg-repmgr.ts): installed, never started as services.
[ -x /usr/lib/postgresql/15/bin/pg_rewind ] || missing+=(postgresql-15)
[ -x /usr/lib/postgresql/15/bin/repmgr ] || missing+=(postgresql-15-repmgr)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# 2. Start / configure what does not answer, then wait for it (bounded).
check() {
  local label=$1 ok=$2 fix=$3 hint=$4
  if "$ok"; then
    echo "$label: ok"
    return 0
  fi
  if ! "$fix" || ! wait_for "$ok"; then
    echo "$label: NOT answering after ${WAIT_SECONDS}s ($hint)"
    FAILED=1
    return 0
  fi
  echo "$label: ok (started)"
}

check "postgresql 127.0.0.1:5432" pg_ok pg_fix "see /var/log/postgresql/"
check "mariadb    127.0.0.1:3306" my_ok my_fix "see /var/log/mysql/error.log"
check "redis      127.0.0.1:6379" redis_ok redis_fix "see /var/log/redis/ci.log"
echo "sshd: $([ -x /usr/sbin/sshd ] && echo 'installed (not started)' || echo 'not installed')"

exit "$FAILED"

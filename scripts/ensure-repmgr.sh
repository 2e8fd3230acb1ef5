#!/usr/bin/env bash
# Installs repmgr for PostgreSQL 15 (Debian package postgresql-15-repmgr), the baseline the
# failover benchmark compares Recover with (test/helpers/pg-repmgr.ts). Idempotent; Debian only.
# The package's repmgrd service is never started: the benchmark drives `repmgr standby promote`
# and `repmgr standby follow` by hand, as an operator would.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

if [ -x /usr/lib/postgresql/15/bin/repmgr ]; then
  /usr/lib/postgresql/15/bin/repmgr --version
  exit 0
fi

# Keep package scripts from starting daemons (as scripts/ensure-services.sh does).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  own_policy=1
fi
rc=0
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
[ "$rc" -ne 0 ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-repmgr >/dev/null || rc=$?
[ "$own_policy" -eq 0 ] || as_root rm -f "$policy"
if [ "$rc" -ne 0 ]; then
  echo "ensure-repmgr: apt-get failed (exit $rc)" >&2
  exit "$rc"
fi
/usr/lib/postgresql/15/bin/repmgr --version

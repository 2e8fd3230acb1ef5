#!/usr/bin/env bash
# Installs the project's npm dependencies exactly as package-lock.json records them (npm ci).
#   scripts/install-deps.sh              always (CI, Docker build)
#   scripts/install-deps.sh --if-needed  only when node_modules is missing or older than the lock file
# Install scripts stay off except as recorded in package.json's allowScripts (needs npm 11).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--if-needed" ] && [ -f node_modules/.package-lock.json ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi

if ! npm ci --no-audit --no-fund; then
  echo "install-deps: npm ci failed (see above). If it says package.json and package-lock.json are out of sync, run 'npm install --package-lock-only' with npm 11 and commit package-lock.json; otherwise check the registry is reachable." >&2
  exit 1
fi

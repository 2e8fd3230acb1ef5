import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The demo's Live Server stand-in (start | stop | status, the real change ~300 ms after the
 * command), plus a log: every start and stop that really changes something is one line
 * `<epoch ms> <start|stop> <pid>` in service.log next to the script; a command that finds the
 * server already where asked logs `<epoch ms> <start|stop>-noop`. The log is outside every
 * database, so no restore touches it.
 */
const SCRIPT = `#!/bin/bash
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir"  # the server processes it leaves behind can be told by their cwd
pidfile="$dir/live-server.pid"
log="$dir/service.log"
now() { date +%s%3N; }
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  start)
    if running; then echo "$(now) start-noop" >> "$log"; echo "already running"; exit 0; fi
    echo "$(now) start $$" >> "$log"
    ( sleep 0.3; nohup sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "starting"; exit 0 ;;
  stop)
    if ! running; then echo "$(now) stop-noop" >> "$log"; echo "not running"; exit 0; fi
    pid=$(cat "$pidfile")
    echo "$(now) stop $$" >> "$log"
    ( sleep 0.3; kill "$pid"; rm -f "$pidfile" ) >/dev/null 2>&1 </dev/null &
    echo "stopping"; exit 0 ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile"))"; exit 0; fi
    echo "stopped"; exit 3 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
`;

const run = promisify(execFile);

export interface ServiceEvent {
  at: number;
  op: 'start' | 'stop' | 'start-noop' | 'stop-noop';
}

export interface LiveServer {
  node: string;
  home: string;
  script: string;
  /** Every logged start/stop, oldest first. */
  events(): ServiceEvent[];
  isRunning(): Promise<boolean>;
  start(): Promise<void>;
  /** SIGKILL the server process, whatever state it is in (cleanup). */
  kill(): void;
}

/** A CoreMedia home for one node: bin/live-server.sh and (optionally) the Rijndael key under etc/keys. */
export function createLiveServer(home: string, node: string): LiveServer {
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  const script = join(bin, 'live-server.sh');
  writeFileSync(script, SCRIPT);
  chmodSync(script, 0o755);
  const logFile = join(bin, 'service.log');
  const pidFile = join(bin, 'live-server.pid');
  const isRunning = () =>
    run(script, ['status']).then(
      () => true,
      () => false,
    );
  return {
    node,
    home,
    script,
    events: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => {
              const [at, op] = l.split(' ');
              return { at: Number(at), op: op as ServiceEvent['op'] };
            })
        : [],
    isRunning,
    start: async () => {
      await run(script, ['start']);
      for (let i = 0; i < 50 && !(await isRunning()); i++) await new Promise((r) => setTimeout(r, 100));
    },
    kill: () => {
      if (!existsSync(pidFile)) return;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The key the runbook copies from the dedicated slave (seed 000 step 3). */
export function writeRijndaelKey(home: string, database: string, user: string, content: string): string {
  const dir = join(home, 'etc', 'keys');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${database}.${user}.rijndael`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** SIGKILL every Live Server whose pid file is under `dir`/hosts (cleanup, even of a half-built fleet). */
export function killLiveServers(dir: string): void {
  const hosts = join(dir, 'hosts');
  if (!existsSync(hosts)) return;
  for (const node of readdirSync(hosts)) {
    const pidFile = join(hosts, node, 'bin', 'live-server.pid');
    if (!existsSync(pidFile)) continue;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

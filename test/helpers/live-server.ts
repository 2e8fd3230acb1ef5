import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceConfig } from '../../src/config/topology';
import { LIVE_SERVER_SCRIPT } from '../../src/demo/live-server-script';
import { shareWithSshUser } from './sshd';

export interface LiveServer {
  dir: string;
  service(overrides?: Partial<ServiceConfig>): ServiceConfig;
  ignoreStop(on: boolean): void;
  destroy(): void;
}

/**
 * A Live Server init script in a directory of its own, owned by the SSH test user: run over the
 * test sshd it writes its pid file there. A test that starts it locally while the runbook stops it
 * over SSH must start it as that user too (`asSshUser()`), or the remote stop cannot signal it.
 */
export function liveServer(): LiveServer {
  const dir = mkdtempSync(join(tmpdir(), 'recover-live-'));
  const script = join(dir, 'live-server.sh');
  writeFileSync(script, LIVE_SERVER_SCRIPT);
  chmodSync(script, 0o755);
  shareWithSshUser(dir);
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

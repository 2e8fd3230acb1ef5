import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { sshUser, type TestSshd } from '../sshd';
import { readFaults, withFaultsLock, type Fault } from './cli/faults';
import type { HostConfig } from './cli/host-config';
import { connect } from './cli/store';

export interface MsimFaults {
  /** SIGKILL the host's sshd (sessions too); its directory, keys and port stay for startSshd. */
  stopSshd(replica: string): Promise<void>;
  /** Start the host's sshd again with the same config (same port, same keys). */
  startSshd(replica: string): Promise<void>;
  dropNextPacket(to: string): void;
  truncateNextPacket(to: string): void;
  duplicateNextPacket(to: string): void;
  reorderNextPackets(to: string): void;
  /** extension: the next packet to `to` lands `ms` later. */
  delayNextPacket(to: string, ms: number): void;
  /** extension: the next import at `replica` is SIGKILLed right after its first packet commits. */
  killNextImport(replica: string): void;
  /** extension: the next restorereplica at `replica` commits, then runs `ms` longer before it answers. */
  slowNextRestore(replica: string, ms: number): void;
  /**
   * extension: oplog retention at `replica` removes its oplog entries (records stay): an export
   * that needs one fails with "Cannot find oplog entry …" (restoration impossible from there).
   */
  scrubOplog(replica: string): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not come back on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Fault controls of a family; `release()` ends the sshds restarted here (close() calls it). */
export function familyFaults(
  sshdOf: (replica: string) => TestSshd,
  faultsFileOf: (replica: string) => string,
  dbOf: (replica: string) => HostConfig['db'],
): MsimFaults & { release(): Promise<void> } {
  const restarted = new Map<string, ChildProcess>();
  const stopped = new Set<string>();
  const end = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const add = (to: string, fault: Fault) => {
    const file = faultsFileOf(to);
    withFaultsLock(file, () => {
      writeFileSync(file, JSON.stringify([...readFaults(file), fault]));
      const { uid, gid, dedicated } = sshUser();
      if (dedicated) chownSync(file, uid, gid); // the receiving shipping_server rewrites it
    });
  };
  return {
    async stopSshd(replica) {
      if (stopped.has(replica)) return;
      const child = restarted.get(replica);
      restarted.delete(replica);
      if (child) await end(child);
      else await sshdOf(replica).kill();
      stopped.add(replica);
    },
    async startSshd(replica) {
      if (!stopped.has(replica)) return;
      const sshd = sshdOf(replica);
      const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshd.dir, 'sshd_config')], {
        stdio: 'ignore',
      });
      restarted.set(replica, child);
      stopped.delete(replica);
      await waitForPort(sshd.port);
    },
    dropNextPacket: (to) => add(to, { kind: 'drop' }),
    truncateNextPacket: (to) => add(to, { kind: 'truncate' }),
    duplicateNextPacket: (to) => add(to, { kind: 'duplicate' }),
    reorderNextPackets: (to) => add(to, { kind: 'reorder' }),
    delayNextPacket: (to, ms) => add(to, { kind: 'delay', ms }),
    killNextImport: (replica) => add(replica, { kind: 'killImport' }),
    slowNextRestore: (replica, ms) => add(replica, { kind: 'slowRestore', ms }),
    async scrubOplog(replica) {
      const c = await connect(dbOf(replica));
      try {
        await c.query('DELETE FROM oplog');
      } finally {
        await c.end();
      }
    },
    async release() {
      await Promise.all([...restarted.values()].map(end));
      restarted.clear();
    },
  };
}

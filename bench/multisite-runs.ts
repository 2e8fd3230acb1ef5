/**
 * The two sides of bench:multisite on the same simulated family (test/helpers/msim): a replica
 * loses its storage and is restored from backup with four siblings, each packet taking
 * `transitMs` to cross the WAN. Recover's multisite-restore (siblings worked in parallel) against
 * the same CLI steps over SSH, one sibling after another, as an administrator would type them.
 */
import { performance } from 'node:perf_hooks';
import { dropPrefix } from '../test/helpers/engine';
import { MSIM_PASSWORD, startMultisiteFamily, type MsimFamily } from '../test/helpers/msim/family';
import { overSsh } from '../test/helpers/msim/over-ssh';
import { MSIM_PASSWORD_ENV, multisiteTopology } from '../test/helpers/multisite-topology';
import { pgEngine } from '../test/helpers/pg-runs';
import { breakdown, runWithApprovals, type Breakdown } from './failover-recover';

export const R = 'boston';
export const SIBLINGS = ['paris', 'tokyo', 'sydney', 'lima'];
const round = (ms: number) => Math.round(ms);

/** History, backup, the last export, one op never exported, then the storage is lost. */
async function lostFamily(transitMs: number) {
  const f = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: [R, ...SIBLINGS],
    transitDelayMs: transitMs,
  });
  await f.write(R, 'b1');
  await f.sync(R);
  const backup = await f.backup(R);
  await f.write(R, 'b2');
  await f.sync(R);
  await f.write(R, 'b3');
  await f.loseStorage(R);
  return { f, backup };
}

async function converged(f: MsimFamily): Promise<void> {
  const unlocked = await f.state(R);
  if (unlocked.locked || unlocked.restoring) throw new Error(`${R} is still locked`);
  const want = JSON.stringify((await f.records(SIBLINGS[0]!)).map((r) => r.payload).sort());
  const got = JSON.stringify((await f.records(R)).map((r) => r.payload).sort());
  if (got !== want) throw new Error(`${R} has ${got}, siblings ${want}`);
}

export interface RecoverSample {
  /** startRun → the restored replica unlocked (acknowledgements step done), approval waits subtracted. */
  unlockedMs: number;
  /** startRun → run finished (verify included), approval waits subtracted. */
  ms: number;
  wallMs: number;
  approvalWaitMs: number;
  breakdown: Breakdown;
}

export async function recoverOnce(transitMs: number, prefix: string): Promise<RecoverSample> {
  const { f, backup } = await lostFamily(transitMs);
  // Re-export only after several transits (the default): a packet in flight is not a lost one.
  const topology = multisiteTopology(f, {
    name: 'benchms',
    backups: { [R]: backup },
    multisite: { reexportAfterMs: 30_000 },
  });
  const rt = await pgEngine(topology, prefix, { ...process.env, [MSIM_PASSWORD_ENV]: MSIM_PASSWORD });
  const engine = {
    rt,
    close: async () => {
      await rt.close();
      await dropPrefix(prefix);
    },
  };
  try {
    // As the bot does at start: SSH handshakes before the incident, not on its clock.
    const failed = await rt.warmHosts();
    if (failed.length > 0) throw new Error(`SSH warm-up failed: ${JSON.stringify(failed)}`);
    const t0 = performance.now();
    const run = await runWithApprovals(engine, topology.name, 'multisite-restore', R);
    const state = await run.ended;
    const wallMs = performance.now() - t0;
    if (state !== 'done') throw new Error(`multisite-restore ended ${state}`);
    await converged(f);
    const b = await breakdown(engine, run);
    // Unlocked when the acknowledgements step ends (its last check saw the unlock line); the
    // verify step after it is Recover's own extra and is reported, not counted.
    const acks = b.steps.find((x) => x.step === 'acknowledgements');
    if (!acks) throw new Error('no acknowledgements step in the audit');
    return {
      unlockedMs: round(acks.toMs - b.approvalWaitTotalMs),
      ms: round(wallMs - b.approvalWaitTotalMs),
      wallMs: round(wallMs),
      approvalWaitMs: b.approvalWaitTotalMs,
      breakdown: b,
    };
  } finally {
    await engine.close();
    await f.close();
  }
}

export interface BaselineSample {
  ms: number;
  /** Per sibling: R's export to it → its acknowledgement imported at R. */
  perSiblingMs: number[];
}

/**
 * The same steps by hand over SSH: restore, restorereplica, step 3 (lspacket everywhere), then
 * for each sibling in turn: export R → S, wait for the packet, import at S, export S → R, import
 * at R. Polls every 100 ms (no human is that quick).
 */
export async function baselineOnce(transitMs: number): Promise<BaselineSample> {
  const { f, backup } = await lostFamily(transitMs);
  const ssh = overSsh(f);
  const must = async (replica: string, argv: string[]) => {
    const r = await ssh.run(replica, argv);
    if (r.code !== 0) throw new Error(`${replica}: ${argv[1]} exited ${r.code}: ${r.err || r.out}`);
    return r.out;
  };
  const cmd = (replica: string, sub: string, args: string[] = []) => f.command(replica, sub, args);
  try {
    for (const h of f.hosts) await ssh.run(h.replica, ['true']); // warm, as Recover's side is
    const t0 = performance.now();
    await must(R, [`${f.host(R).binDir}/msim-db`, 'restore', backup.file]);
    await must(R, cmd(R, 'restorereplica'));
    for (const h of f.hosts) {
      const listed = await must(h.replica, cmd(h.replica, 'lspacket'));
      if (listed.includes(`From: ${R} `)) throw new Error(`a packet from ${R} waits at ${h.replica}`);
    }
    const perSiblingMs: number[] = [];
    let unlocked = false;
    for (const s of SIBLINGS) {
      const s0 = performance.now();
      await must(R, cmd(R, 'syncreplica', ['-export', '-fship', s]));
      for (;;) {
        if ((await must(s, cmd(s, 'lspacket'))).includes(`From: ${R} `)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await must(s, cmd(s, 'syncreplica', ['-import', '-receive']));
      await must(s, cmd(s, 'syncreplica', ['-export', '-fship', R]));
      for (;;) {
        const out = await must(R, cmd(R, 'syncreplica', ['-import', '-receive']));
        if (out.includes('unlocked after restoration')) unlocked = true;
        if (out.includes(`acknowledgement received from "${s}"`) || unlocked) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      perSiblingMs.push(round(performance.now() - s0));
    }
    if (!unlocked) throw new Error(`${R} never said it was unlocked`);
    const ms = round(performance.now() - t0);
    await converged(f);
    return { ms, perSiblingMs };
  } finally {
    await ssh.close();
    await f.close();
  }
}

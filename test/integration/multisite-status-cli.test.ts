import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { MSIM_PASSWORD, startMultisiteFamily, type MsimFamily } from '../helpers/msim/family';
import { MSIM_PASSWORD_ENV, multisiteTopology } from '../helpers/multisite-topology';
import { runRecover } from '../helpers/run-cli';

// Spawns the real CLI: deadlines, not speed checks.
jest.setTimeout(120_000);

let family: MsimFamily;
const dir = mkdtempSync(join(tmpdir(), 'recover-mscli-'));
const file = join(dir, 'recover.yaml');
const env = { [MSIM_PASSWORD_ENV]: MSIM_PASSWORD };

beforeAll(async () => {
  family = await startMultisiteFamily({ dialect: 'clearquest', replicas: ['boston', 'paris', 'tokyo'] });
  await family.write('boston', 'b1');
  await family.sync('boston');
  const backup = await family.backup('boston');
  await family.write('boston', 'b2');
  await family.sync('boston');
  const topology = multisiteTopology(family, { name: 'sampl', backups: { boston: backup } });
  writeFileSync(file, YAML.stringify({ topologies: [{ ...topology, access: { approvers: ['bob'] } }] }));
});

afterAll(async () => {
  await family.close();
  rmSync(dir, { recursive: true, force: true });
  await expectNoLeakedHandles(1000);
});

interface Json {
  flavour: string;
  facts: {
    replicas: {
      node: string;
      role: string;
      reachable: boolean;
      ownOps: number | null;
      databaseError: string | null;
    }[];
    matrix: Record<string, Record<string, Record<string, number>> | null>;
    pendingPackets: Record<string, unknown[] | null>;
  };
  proposal: {
    restore: string | null;
    evidence: string | null;
    verdicts: Record<string, string>;
    refusals: { code: string; replica: string }[];
    step3: { open: boolean; blocking: string[] };
    lossWindow: { backupOwnOps: number | null; recoverableUpTo: number | null } | null;
  };
}

const status = async (): Promise<Json> => {
  const r = await runRecover(['status', '--config', file, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Json;
};

it('status --json of a MultiSite family: matrix, packets, a verdict per replica; then a lost replica is proposed for restoration and an unreachable sibling closes step 3', async () => {
  const healthy = await status();
  expect(healthy.flavour).toBe('multisite');
  expect(healthy.facts.replicas.map((r) => [r.node, r.role, r.ownOps])).toEqual([
    ['boston', 'replica', 2],
    ['paris', 'replica', 0],
    ['tokyo', 'replica', 0],
  ]);
  expect(healthy.facts.matrix.paris?.paris).toEqual({ boston: 2, paris: 0, tokyo: 0 });
  expect(healthy.facts.pendingPackets).toEqual({ boston: [], paris: [], tokyo: [] });
  expect(healthy.proposal).toMatchObject({ restore: null, refusals: [] });
  expect(healthy.proposal.verdicts).toEqual({ boston: 'healthy', paris: 'healthy', tokyo: 'healthy' });

  await family.loseStorage('boston');
  await family.faults.stopSshd('tokyo');
  const lost = await status();
  const boston = lost.facts.replicas.find((r) => r.node === 'boston')!;
  expect(boston).toMatchObject({ role: 'lost', reachable: true, ownOps: null });
  expect(boston.databaseError).toMatch(/relation .* does not exist/);
  expect(lost.facts.replicas.find((r) => r.node === 'tokyo')).toMatchObject({
    role: 'unknown',
    reachable: false,
  });
  expect(lost.facts.matrix.tokyo).toBeNull();
  expect(lost.proposal).toMatchObject({
    restore: 'boston',
    evidence: 'database-lost',
    refusals: [],
    step3: { open: false, blocking: ['tokyo: unknown (bays not readable)'] },
    // tokyo might hold more of boston's ops: no bound is claimed while it is dark.
    lossWindow: { backupOwnOps: 1, recoverableUpTo: null },
  });
  expect(lost.proposal.verdicts.tokyo).toMatch(/^unknown: host not reachable/);
  await family.faults.startSshd('tokyo');

  // The plan command reaches the hosts too, and shows the restore gate.
  const plan = await runRecover(
    ['plan', 'sampl', 'multisite-restore', '--target', 'boston', '--config', file],
    env,
  );
  expect(plan.code).toBe(0);
  expect(plan.stdout).toMatch(/restore-database/);
  expect(plan.stdout).not.toContain(MSIM_PASSWORD);
});

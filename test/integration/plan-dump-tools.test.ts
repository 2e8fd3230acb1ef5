/**
 * A pg_dump older than the server it must dump is found when the plan is made, not in the middle
 * of the run (after the master's schema was dropped): the real PostgreSQL, the real engine, a
 * pg_dump that reports an old version first on PATH.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../../src/engine/deps';
import { planFor } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { configWithAccess, dropPrefix, startTestEngine, type TestEngine } from '../helpers/engine';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

const prefix = `t-plantools-${process.pid}`;
const bin = mkdtempSync(join(tmpdir(), 'recover-oldpg-'));
let fleet: Fleet;
const engines: TestEngine[] = [];

beforeAll(async () => {
  fleet = await testFleet(
    'ptools',
    [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042), slaveNode('rls-2', 'postgres', 1030)],
    'ptools',
  );
  // An old client: answers --version like PostgreSQL 9.6's pg_dump, and would fail any real dump.
  const fake = join(bin, 'pg_dump');
  writeFileSync(
    fake,
    '#!/bin/sh\n[ "$1" = --version ] && echo "pg_dump (PostgreSQL) 9.6.24" && exit 0\nexit 1\n',
  );
  chmodSync(fake, 0o755);
});
afterAll(async () => {
  for (const e of engines) await e.close();
  rmSync(bin, { recursive: true, force: true });
  await dropPrefix(prefix);
  await fleet?.destroy();
});

async function engineWithPath(path: string): Promise<TestEngine> {
  const { config } = configWithAccess(fleet, { approvers: ['bob'] });
  const engine = await startTestEngine(config, `${prefix}-${engines.length}`, {
    env: { ...fleet.env, PATH: path },
  });
  engines.push(engine);
  return engine;
}

it('refuses to plan a dump→restore whose pg_dump is older than the source server, saying what to install', async () => {
  const engine = await engineWithPath(`${bin}:/usr/local/bin:/usr/bin:/bin`);
  const err = await planFor(engine.deps, 'ptools', 'master-from-slave', null).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(EngineError);
  expect(err).toMatchObject({ code: 'dump-tool-too-old' });
  expect(String(err)).toMatch(
    /pg_dump is PostgreSQL 9, older than rls-1's server \(PostgreSQL 1\d\).*Install the client tools of PostgreSQL 1\d or newer/,
  );
  // A plan without a dump→restore step is not affected.
  await expect(planFor(engine.deps, 'ptools', 'in-sync-replicator-settings', null)).resolves.toMatchObject({
    runbook: 'in-sync-replicator-settings',
  });
});

it('plans as before with a pg_dump as new as the server', async () => {
  const engine = await engineWithPath('/usr/local/bin:/usr/bin:/bin');
  const plan = await planFor(engine.deps, 'ptools', 'master-from-slave', null);
  expect(plan.steps.some((s) => s.action.kind === 'dump-restore')).toBe(true);
});

import { serviceUrls } from '../../src/config/env';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';
import { makeFreshlyRestored, systemRows } from '../helpers/coremedia-sql';
import { configWithAccess, dropPrefix } from '../helpers/engine';
import { runRecover } from '../helpers/run-cli';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';

// Each test spawns the real CLI (TypeScript through tsx): on a loaded machine a start alone can
// take seconds. These are deadlines, not speed checks.
jest.setTimeout(180_000);

const prefix = `t-cli-engine-${process.pid}`;
let fleet: Fleet;
let configFile: string;
let env: Record<string, string>;
let worker: WorkerProcess;

beforeAll(async () => {
  fleet = await testFleet(
    'cli',
    [masterNode('postgres'), slaveNode('rls-1', 'mysql', 1042), slaveNode('rls-2', 'mysql', 1030)],
    'clie',
  );
  configFile = configWithAccess(fleet, { approvers: ['bob'] }).file;
  env = { RECOVER_REDIS_PREFIX: prefix, REDIS_URL: serviceUrls().redisUrl, ...fleet.env };
  worker = await startWorkerProcess(configFile, env);
});

afterAll(async () => {
  worker.child.kill('SIGTERM');
  await worker.exited;
  await dropPrefix(prefix);
  await fleet.destroy();
});

const recover = (...args: string[]) => runRecover([...args, '--config', configFile], env);

it('plan and run --dry-run show the exact SQL and execute nothing', async () => {
  await makeFreshlyRestored(fleet, 'rls-2');
  const plan = await recover('plan', 'cli', 'slave-from-master-sql', '--target', 'rls-2');
  expect(plan.code).toBe(0);
  expect(plan.stdout).toContain("INSERT INTO `system` (property, content) VALUES ('replicator_remote', ?)");
  expect(plan.stdout).toContain('$1 = sequenceno from read-changelog--rls-2');
  expect(plan.stdout).toMatch(/Approvals needed: 3/);

  const dry = await recover(
    'run',
    'cli',
    'slave-from-master-sql',
    '--target',
    'rls-2',
    '--as',
    'alice',
    '--dry-run',
  );
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('(dry run: nothing was executed)');
  expect((await systemRows(fleet, 'rls-2')).replicator_remote).toBeUndefined();
  const runs = await recover('runs', 'cli');
  expect(runs.stdout).not.toMatch(/cli-\d{8}/);
});

it('run, a refused self-approval, an approval, abort, timeline: the whole lifecycle from a terminal', async () => {
  await makeFreshlyRestored(fleet, 'rls-2');
  const bad = await recover('plan', 'cli', 'slave-from-master-sql', '--target', 'mls');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/mls/);

  const run = await recover('run', 'cli', 'slave-from-master-sql', '--target', 'rls-2', '--as', 'alice');
  expect(run.code).toBe(0);
  const runId = /run (cli-[0-9a-z-]+) started/.exec(run.stdout)?.[1];
  expect(runId).toBeDefined();
  // A real run is not a dry run, and does not say it is.
  expect(run.stdout).not.toContain('dry run');
  expect(run.stdout).toContain('Plan slave-from-master-sql on cli, target rls-2 (running now)');
  expect(run.stdout).toMatch(
    /✓ read-changelog--rls-2: ok, 1 rows, .*captured sequenceno=1030 idtag=tag-1030/,
  );
  expect(run.stdout).toMatch(/⏸ waiting for a second person to approve gate "replicator-rows"/);

  const busy = await recover('run', 'cli', 'slave-from-master-sql', '--target', 'rls-1', '--as', 'erin');
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain(`cli is busy: run ${runId} started by alice holds it since`);

  const self = await recover('approve', runId!, '--as', 'alice');
  expect(self.code).toBe(1);
  expect(self.stderr).toContain('alice started this run and cannot approve it');

  const ok = await recover('approve', runId!, '--as', 'bob');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`approved "replicator-rows" of ${runId}`);
  expect(ok.stdout).toMatch(/✓ insert-replicator-tag--rls-2: ok, 1 rows affected/);
  expect(ok.stdout).toMatch(/⏸ waiting for a second person to approve gate "delete-licenses"/);

  const aborted = await recover('abort', runId!, '--as', 'alice');
  expect(aborted.code).toBe(0);
  expect(await systemRows(fleet, 'rls-2')).toMatchObject({
    replicator_remote: '1030',
    repository_server_type: 'publication',
  });

  const timeline = await recover('timeline', runId!);
  expect(timeline.code).toBe(0);
  expect(timeline.stdout).toContain(`# Incident timeline: run ${runId}`);
  expect(timeline.stdout).toContain('- **Final state:** aborted');
  expect(timeline.stdout).toMatch(/\| alice \| approval by alice refused: alice started this run/);
  expect(timeline.stdout).toMatch(/\| bob \| bob approved gate "replicator-rows"/);

  const runs = await recover('runs', 'cli');
  expect(runs.stdout).toMatch(new RegExp(`${runId} +cli +slave-from-master-sql +rls-2 +alice +aborted`));
}, 180_000);

/**
 * A long dump→restore shows its progress as it goes: the real engine and worker, real PostgreSQL,
 * a source of ~20 MB; the progress events carry bytes, the source's size, a rate and an ETA, and
 * they end before the step's result.
 */
import { createEngineRuntime, type EngineRuntime } from '../../src/app/engine-runtime';
import { serviceUrls } from '../../src/config/env';
import { progressText } from '../../src/engine/progress';
import { startRun } from '../../src/engine/start';
import type { Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { renderEngineEvent } from '../../src/render/event-text';
import type { Runbook } from '../../src/runbook/types';
import { createSlackWebClient, SlackOutbox } from '../../src/slack/outbox';
import { SlackNotifier } from '../../src/slack/notifier';
import { RunThreads } from '../../src/slack/run-threads';
import { onNode } from '../helpers/coremedia-sql';
import { startSlackStandin, type SlackStandin } from '../helpers/slack-standin';
import { configWithAccess, dropPrefix, RecordingNotifier, waitForRunState } from '../helpers/engine';
import { masterNode, slaveNode, testFleet } from '../helpers/scenarios';

const prefix = `t-progress-${process.pid}`;
let fleet: Fleet;
let rt: EngineRuntime;
let standin: SlackStandin;
let outbox: SlackOutbox;
const notifier = new RecordingNotifier();
/** The bot's voice in Slack, fed the same events (created once the runtime's ledger exists). */
const slack: { to?: SlackNotifier } = {};

const copy: Runbook = {
  name: 'test-copy',
  flavour: 'coremedia',
  title: 'Copy the dedicated slave into the master',
  source: 'test',
  target: 'none',
  steps: [
    {
      id: 'copy',
      title: 'dump → restore',
      target: { kind: 'master' },
      action: { kind: 'dump-restore', from: { kind: 'dedicated-slave' } },
      risk: 'write',
    },
  ],
};

beforeAll(async () => {
  fleet = await testFleet('prog', [masterNode('postgres'), slaveNode('rls-1', 'postgres', 1042)], 'prog');
  await onNode(
    fleet,
    'rls-1',
    'CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 32) AS body FROM generate_series(1, 20000) g',
  );
  const { config } = configWithAccess(fleet, { approvers: ['bob'] });
  rt = await createEngineRuntime({
    config,
    redisUrl: serviceUrls().redisUrl,
    prefix,
    notifier: {
      async notify(e) {
        await notifier.notify(e);
        await slack.to?.notify(e);
      },
    },
    env: { ...fleet.env, PATH: '/usr/local/bin:/usr/bin:/bin' },
    runbook: (name) => (name === copy.name ? copy : undefined),
    progressEveryMs: 50,
  });
  standin = await startSlackStandin();
  outbox = new SlackOutbox(createSlackWebClient('xoxb-progress', standin.url), { minIntervalMs: 20 });
  slack.to = new SlackNotifier({
    outbox,
    threads: new RunThreads(rt.redis, prefix),
    ledger: rt.deps.ledger,
    clock: () => new Date(),
    onError: (err) => {
      throw err;
    },
  });
  rt.startWorker();
}, 60_000);

afterAll(async () => {
  await slack.to?.drain();
  outbox?.close();
  await standin?.close();
  await rt?.close();
  await dropPrefix(prefix);
  await fleet?.destroy();
});

it('reports bytes, the source size, a rate and an ETA while the stream runs, then the result', async () => {
  const runId = 'prog-20260101-000000-beef';
  await new RunThreads(rt.redis, prefix).bind(runId, 'C0INCIDENT');
  const outcome = await startRun(rt.deps, {
    topology: 'prog',
    runbook: copy.name,
    target: null,
    requester: { id: 'alice' },
    runId,
  });
  if (outcome.kind !== 'started') throw new Error(outcome.kind);
  expect(await waitForRunState(rt, outcome.run.id, ['done', 'failed'], 60_000)).toBe('done');

  const progress = notifier.events.flatMap((e) => (e.type === 'step-progress' ? [e.progress] : []));
  expect(progress.length).toBeGreaterThanOrEqual(1);
  const bytes = progress.map((p) => p.bytes);
  expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
  expect(progress[0]!.totalBytes).toBeGreaterThan(10_000_000);
  expect(progress[0]!.bytesPerSecond).toBeGreaterThan(0);
  expect(progress.some((p) => p.etaMs !== null)).toBe(true);
  expect(progressText(progress[0]!)).toMatch(
    /^[\d.]+ [KM]iB of ~[\d.]+ MiB \(\d+%\), [\d.]+ [KM]iB\/s, (about .* left|.* so far)$/,
  );
  // The terminal's line for it, and the order: progress, then the result.
  const first = notifier.events.find((e) => e.type === 'step-progress')!;
  expect(renderEngineEvent(first)).toMatch(/^ {2}… copy--mls: .*iB of ~/);
  const types = notifier.types().filter((t) => t.startsWith('step-'));
  expect(types.lastIndexOf('step-progress')).toBeLessThan(types.indexOf('step-result'));
  expect(await onNode(fleet, 'mls', 'SELECT count(*)::int AS n FROM bulk')).toEqual([{ n: 20000 }]);

  // In Slack: the run's parent message showed the progress line while the stream ran (by
  // chat.update), and no longer once the step was done.
  await slack.to!.drain();
  const updates = standin.callsTo('chat.update');
  const shown = (c: (typeof updates)[number]) => JSON.stringify(c.args.blocks);
  expect(updates.some((c) => /hourglass_flowing_sand: `copy--mls`: .*iB of ~.*MiB/.test(shown(c)))).toBe(
    true,
  );
  const parentTs = String(updates[0]!.args.ts);
  expect(JSON.stringify(standin.message('C0INCIDENT', parentTs)?.blocks)).not.toContain('hourglass');
}, 90_000);

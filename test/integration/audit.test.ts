import Redis from 'ioredis';
import { serviceUrls } from '../../src/config/env';
import { AuditLog } from '../../src/engine/audit';
import type { AuditEvent, RunRecord } from '../../src/engine/types';
import { renderTimelineMarkdown } from '../../src/render/timeline';
import type { Plan, PlanStep } from '../../src/runbook/types';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const prefix = `test-audit-${process.pid}-${Date.now()}`;
const redis = new Redis(serviceUrls().redisUrl);
const audit = new AuditLog(redis, { prefix, globalMaxLen: 50 });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await expectNoLeakedHandles();
});

const RUN_ID = 'prod-live-20240501-100000-ab12';
const UPDATE_SQL = 'UPDATE `system` SET content = ?\n  WHERE property = ? -- a|b';

const events: AuditEvent[] = [
  ev('plan', '10:00:00', 'alice', null, 'plan 1a2b3c4d5e6f: 3 steps of slave-from-master', { planHash: 'h' }),
  ev('start', '10:00:00', 'alice', null, 'run started by alice'),
  ev('step-start', '10:00:01', null, 'read-changelog--mls', 'Read the last changelog row on mls', {
    action: { kind: 'sql', sql: 'SELECT sequenceno, idtag FROM changelog ORDER BY sequenceno DESC LIMIT 1' },
  }),
  ev('step-result', '10:00:02', null, 'read-changelog--mls', 'read-changelog--mls: ok, 1 rows, 14 ms', {
    ok: true,
  }),
  ev(
    'awaiting-approval',
    '10:00:02',
    null,
    'set-replicator--rls1',
    'waiting for approval of gate "set-replicator"',
    {
      gate: 'set-replicator',
      steps: ['set-replicator--rls1'],
    },
  ),
  ev('approval-refused', '10:01:00', 'alice', null, 'approval by alice refused: alice started this run'),
  ev('approval', '10:02:00', 'bob', null, 'bob approved gate "set-replicator" of plan 1a2b3c4d5e6f'),
  ev('step-start', '10:02:01', null, 'set-replicator--rls1', 'Set the replicator rows on rls1', {
    sql: UPDATE_SQL,
  }),
  ev(
    'step-result',
    '10:02:02',
    null,
    'set-replicator--rls1',
    'set-replicator--rls1: FAILED: 0 rows affected',
    {
      ok: false,
    },
  ),
  ev('finish', '10:02:03', null, null, 'run failed: set-replicator--rls1: Updated 0 rows, expected 1'),
];

describe('AuditLog', () => {
  it('appends and reads a run back in order, content intact, runs kept apart', async () => {
    for (const e of events) await audit.append(e);
    await audit.append({ ...events[0]!, runId: 'another-run' });
    expect(await audit.read(RUN_ID)).toEqual(events);
    expect(await audit.read('another-run')).toHaveLength(1);
    expect(await audit.read('no-such-run')).toEqual([]);
    const recent = await audit.recent(3);
    expect(recent.map((e) => e.runId)).toEqual([RUN_ID, RUN_ID, 'another-run']);
  });

  it('keeps the all-runs stream capped while a run keeps every event', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ev('decision', '11:00:00', 'x', null, `event ${i}`));
    for (const e of many) await audit.append({ ...e, runId: 'busy-run' });
    expect(await audit.read('busy-run')).toHaveLength(300);
    // MAXLEN ~ trims whole macro nodes (100 entries by default), so "about" 50.
    expect(await redis.xlen(`${prefix}:audit`)).toBeLessThan(300);
  });
});

describe('renderTimelineMarkdown', () => {
  const md = renderTimelineMarkdown(run(), plan(), events);
  const lines = md.split('\n');

  it('has a title and the run facts', () => {
    expect(lines[0]).toBe(`# Incident timeline: run ${RUN_ID}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        '- **Topology:** prod-live',
        '- **Runbook:** slave-from-master',
        '- **Target:** rls1',
        '- **Requested by:** alice',
        '- **Final state:** failed (set-replicator--rls1: Updated 0 rows, expected 1)',
        '- **Plan:** 1a2b3c4d5e6f',
        '- **Started:** 2024-05-01 10:00:00 UTC; last change 2024-05-01 10:02:03 UTC',
      ]),
    );
  });

  it('has one table row per event, who did it, SQL in backticks and pipes escaped', () => {
    const header = lines.indexOf('| time (UTC) | who | what |');
    expect(lines[header + 1]).toBe('| --- | --- | --- |');
    const rows = lines.slice(header + 2, header + 2 + events.length);
    expect(rows).toEqual([
      '| 2024-05-01 10:00:00 | alice | plan 1a2b3c4d5e6f: 3 steps of slave-from-master |',
      '| 2024-05-01 10:00:00 | alice | run started by alice |',
      '| 2024-05-01 10:00:01 | recover | `read-changelog--mls` Read the last changelog row on mls — `SELECT sequenceno, idtag FROM changelog ORDER BY sequenceno DESC LIMIT 1` |',
      '| 2024-05-01 10:00:02 | recover | read-changelog--mls: ok, 1 rows, 14 ms |',
      '| 2024-05-01 10:00:02 | recover | `set-replicator--rls1` waiting for approval of gate "set-replicator" |',
      '| 2024-05-01 10:01:00 | alice | approval by alice refused: alice started this run |',
      '| 2024-05-01 10:02:00 | bob | bob approved gate "set-replicator" of plan 1a2b3c4d5e6f |',
      '| 2024-05-01 10:02:01 | recover | `set-replicator--rls1` Set the replicator rows on rls1 — ``UPDATE `system` SET content = ? WHERE property = ? -- a\\|b`` |',
      '| 2024-05-01 10:02:02 | recover | set-replicator--rls1: FAILED: 0 rows affected |',
      '| 2024-05-01 10:02:03 | recover | run failed: set-replicator--rls1: Updated 0 rows, expected 1 |',
    ]);
    expect(lines[header + 2 + events.length]).toBe('');
  });

  it('lists every plan step with its final state', () => {
    const steps = lines.slice(lines.indexOf('## Steps'));
    expect(steps).toEqual([
      '## Steps',
      '',
      '| # | step | node | risk | final state |',
      '| --- | --- | --- | --- | --- |',
      '| 1 | `read-changelog--mls` Read the last changelog row | mls | read | done |',
      '| 2 | `set-replicator--rls1` Set the replicator rows | rls1 | destructive | **FAILED** |',
      '| 3 | `restart--rls1` Restart the replicator | rls1 | write | not run |',
      '',
    ]);
  });

  it('prefers ledger records for step states and marks a step left running as unknown', () => {
    const withRecords = renderTimelineMarkdown({ ...run(), state: 'halted' }, plan(), events.slice(0, 8), [
      {
        stepId: 'read-changelog--mls',
        state: 'done',
        attempts: 1,
        startedAt: null,
        finishedAt: null,
        result: null,
        awaitingSince: null,
      },
      {
        stepId: 'set-replicator--rls1',
        state: 'unknown',
        attempts: 1,
        startedAt: null,
        finishedAt: null,
        result: null,
        awaitingSince: null,
      },
    ]);
    expect(withRecords).toContain(
      '| 2 | `set-replicator--rls1` Set the replicator rows | rls1 | destructive | **unknown** (outcome not recorded) |',
    );
    const fromEvents = renderTimelineMarkdown({ ...run(), state: 'halted' }, plan(), events.slice(0, 8));
    expect(fromEvents).toContain('| destructive | **unknown** (started, no result recorded) |');
    expect(renderTimelineMarkdown(run(), null, [])).toContain('_No events recorded._');
  });
});

function ev(
  kind: AuditEvent['kind'],
  time: string,
  actor: string | null,
  stepId: string | null,
  summary: string,
  detail: Record<string, unknown> = {},
): AuditEvent {
  return { runId: RUN_ID, kind, at: `2024-05-01T${time}.000Z`, actor, stepId, summary, detail };
}

function run(): RunRecord {
  return {
    id: RUN_ID,
    topology: 'prod-live',
    runbook: 'slave-from-master',
    target: 'rls1',
    requester: 'alice',
    state: 'failed',
    planHash: '1a2b3c4d5e6f7a8b9c0d',
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:02:03.000Z',
    reason: 'set-replicator--rls1: Updated 0 rows, expected 1',
    dryRun: false,
  };
}

function plan(): Plan {
  const step = (
    id: string,
    title: string,
    node: string,
    risk: PlanStep['risk'],
    stage: number,
  ): PlanStep => ({
    id,
    templateId: id.split('--')[0]!,
    title,
    node,
    engine: 'mysql',
    risk,
    action: { kind: 'noop', sleepMs: 0 },
    captures: [],
    check: null,
    stage,
    gate: risk === 'destructive' ? 'set-replicator' : null,
  });
  return {
    runbook: 'slave-from-master',
    topology: 'prod-live',
    target: 'rls1',
    basis: {
      flavour: 'coremedia',
      probedAt: '2024-05-01T10:00:00.000Z',
      unknown: [],
      summary: '',
      followUp: null,
      facts: {},
    },
    steps: [
      step('read-changelog--mls', 'Read the last changelog row', 'mls', 'read', 0),
      step('set-replicator--rls1', 'Set the replicator rows', 'rls1', 'destructive', 1),
      step('restart--rls1', 'Restart the replicator', 'rls1', 'write', 2),
    ],
    warnings: [],
    hash: '1a2b3c4d5e6f7a8b9c0d',
  };
}

import { ConfigError } from '../../src/config/errors';
import { crossCheck, parseYamlText } from '../../src/config/load';
import { RecoverConfig } from '../../src/config/topology';
import { monitorPlan, monitorPlans, monitorWarnings } from '../../src/monitor/settings';
import { alertMessage, alertResolvedReply } from '../../src/slack/blocks';
import { ACTION } from '../../src/slack/constants';

const yaml = (monitor: string) => `topologies:
  - name: prod-live
    flavour: coremedia
    master: mls
    access: { channels: [C0INCIDENT], approvers: [bob] }
${monitor}
    nodes:
      - name: mls
        db: { engine: postgres, host: 127.0.0.1, port: 5432, database: cm, user: cm }
`;
const parse = (monitor: string) => parseYamlText('t.yaml', yaml(monitor), RecoverConfig, crossCheck);

describe('monitor config', () => {
  it('watches every topology by default, posting to access.channels[0]; `enabled: false` turns it off', () => {
    expect(monitorPlans(parse('    monitor: { enabled: false }'))).toEqual([]);
    expect(monitorPlan(parse('').topologies[0]!)).toEqual(
      monitorPlan(parse('    monitor: {}').topologies[0]!),
    );
    const plan = monitorPlan(parse('').topologies[0]!);
    expect(plan).toMatchObject({
      topology: 'prod-live',
      intervalMs: 30_000,
      channel: 'C0INCIDENT',
      thresholds: {
        divergence: { maxDelta: 0, forMs: 120_000 },
        unreachableForMs: 60_000,
        flapWindowMs: 600_000,
      },
    });
    // The default jitter is a third of the interval (at most 10 s), a stable offset per topology name.
    expect(plan!.offsetMs).toBeGreaterThanOrEqual(0);
    expect(plan!.offsetMs).toBeLessThan(10_000);
    expect(monitorPlan(parse('    monitor: {}').topologies[0]!)!.offsetMs).toBe(plan!.offsetMs);
  });

  it('takes alertChannel, interval, jitter, refresh and every threshold', () => {
    const c = parse(`    monitor:
      alertChannel: C0ALERTS
      intervalMs: 2000
      jitterMs: 0
      refreshMs: 5000
      thresholds: { divergence: { maxDelta: 5, forMs: 1000 }, unreachableForMs: 3000, flapWindowMs: 9000 }`);
    expect(monitorPlan(c.topologies[0]!)).toEqual({
      topology: 'prod-live',
      intervalMs: 2000,
      offsetMs: 0,
      channel: 'C0ALERTS',
      refreshMs: 5000,
      thresholds: { divergence: { maxDelta: 5, forMs: 1000 }, unreachableForMs: 3000, flapWindowMs: 9000 },
    });
  });

  it('says why an enabled monitor without a channel is not watched', () => {
    const c = RecoverConfig.parse({
      topologies: [{ ...parse('').topologies[0]!, access: { approvers: [] }, monitor: {} }],
    });
    expect(monitorPlans(c)).toEqual([]);
    expect(monitorWarnings(c)).toEqual([
      'monitor: prod-live is not watched: no channel for its alerts (set monitor.alertChannel or access.channels; monitor.enabled: false silences this)',
    ]);
    const off = RecoverConfig.parse({
      topologies: [{ ...parse('').topologies[0]!, access: { approvers: [] }, monitor: { enabled: false } }],
    });
    expect(monitorWarnings(off)).toEqual([]);
  });

  it('reports mistakes as file:line: path: message', () => {
    let err: unknown;
    try {
      parse(`    monitor:
      intervalMs: 50
      thresholds: { unreachableForMs: -1, bogus: 1 }`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^t\.yaml:7: topologies\[0\]\.monitor\.intervalMs: .*200/),
        expect.stringMatching(/^t\.yaml:8: topologies\[0\]\.monitor\.thresholds(\.unreachableForMs)?: /),
      ]),
    );
  });
});

describe('alert message', () => {
  const base = {
    topology: 'prod-live',
    key: 'replicator-id-rows.rls-2',
    state: 'open' as const,
    since: '2026-11-21T10:00:00.000Z',
    lastSeen: '2026-11-21T10:00:30.000Z',
    ackedBy: null,
    ackedAt: null,
    resolvedAt: null,
    flaps: 0,
    detail: {
      key: 'replicator-id-rows.rls-2',
      kind: 'replicator-id-rows' as const,
      node: 'rls-2',
      summary: 'ReplicatorIdTable on rls-2 has 2 rows: rls-2 is inconsistent',
      facts: ['@channel <script> & co'],
      rows: Array.from({ length: 5 }, (_, i) => ({ id: i, note: 'x'.repeat(5000) })),
      since: '2026-11-21T10:00:00.000Z',
      proposal: 'dedicated sequence 1042; dedicated slave rls-1; to restore: rls-2',
      cleared: 'ReplicatorIdTable on rls-2 is empty again',
      runbook: { name: 'slave-from-master', target: 'rls-2' },
    },
  };
  const actionIds = (m: ReturnType<typeof alertMessage>) =>
    m.blocks.flatMap((b) =>
      b.type === 'actions' ? b.elements.map((e) => (e as { action_id: string }).action_id) : [],
    );

  it('stays within Slack limits, never pings, and offers Inspect, Plan and Acknowledge while open', () => {
    const m = alertMessage(base);
    const text = JSON.stringify(m.blocks);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    expect(text).not.toContain('@channel');
    expect(text).toContain('&lt;script&gt; &amp; co');
    expect(text).toContain('Current proposal');
    expect(actionIds(m)).toEqual([ACTION.alertInspect, ACTION.alertPlan, ACTION.alertAck]);
  });

  it('acknowledged: says who, and the Acknowledge button is gone; resolved: says when', () => {
    const acked = alertMessage({ ...base, ackedBy: 'U0BOB', ackedAt: '2026-11-21T10:01:00.000Z' });
    expect(JSON.stringify(acked.blocks)).toContain('Acknowledged by <@U0BOB> at 10:01 UTC');
    expect(actionIds(acked)).toEqual([ACTION.alertInspect, ACTION.alertPlan]);
    const done = { ...base, state: 'resolved' as const, resolvedAt: '2026-11-21T10:03:00.000Z' };
    expect(alertMessage(done).text).toMatch(/^Resolved: /);
    expect(alertResolvedReply(done).text).toBe(
      '✅ Resolved after 3 min: ReplicatorIdTable on rls-2 is empty again (at 2026-11-21 10:03:00 UTC)',
    );
  });
});

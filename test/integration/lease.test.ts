import Redis from 'ioredis';
import { serviceUrls } from '../../src/config/env';
import { RunLedger } from '../../src/engine/ledger';
import { StaleTokenError, TopologyLease } from '../../src/engine/lease';
import type { RunRecord } from '../../src/engine/types';
import type { Plan, PlanStep } from '../../src/runbook/types';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

const prefix = `test-lease-${process.pid}-${Date.now()}`;
// Several connections, so concurrent calls really race on the server, not in one pipeline.
const conns = Array.from({ length: 3 }, () => new Redis(serviceUrls().redisUrl));
const redis = conns[0]!;
let now = new Date('2024-05-01T10:00:00.000Z');
const clock = () => now;
const lease = new TopologyLease(redis, { prefix, clock });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await Promise.all(conns.map((c) => c.quit()));
  await expectNoLeakedHandles();
});

describe('TopologyLease', () => {
  it('lets exactly one of ten concurrent acquires win; the others see the holder', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new TopologyLease(conns[i % conns.length]!, { prefix, clock }).acquire(
          'race',
          `run-${i}`,
          `user${i}`,
        ),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const won = winners[0]!.ok ? winners[0]!.lease : null;
    for (const r of results.filter((x) => !x.ok)) {
      expect(r).toEqual({ ok: false, holder: won });
    }
    expect(won).toMatchObject({ topology: 'race', since: now.toISOString(), heartbeatAt: now.toISOString() });
    expect(await lease.current('race')).toEqual(won);
  });

  it('re-acquiring for the same run is idempotent (same token, same since)', async () => {
    const first = await lease.acquire('idem', 'run-a', 'alice');
    now = new Date('2024-05-01T10:05:00.000Z');
    const again = await lease.acquire('idem', 'run-a', 'alice');
    expect(first.ok && again.ok).toBe(true);
    expect(again).toEqual(first);
  });

  it('refuses a second run and says who holds the topology since when', async () => {
    const held = await lease.acquire('busy', 'run-a', 'alice');
    const refused = await lease.acquire('busy', 'run-b', 'bob');
    expect(refused).toEqual({ ok: false, holder: held.ok ? held.lease : null });
    expect(!refused.ok && refused.holder).toMatchObject({ runId: 'run-a', requester: 'alice' });
  });

  it('takeOver bumps the token, keeps since, and fences the old worker out', async () => {
    now = new Date('2024-05-01T11:00:00.000Z');
    const acquired = await lease.acquire('takeover', 'run-t', 'alice');
    if (!acquired.ok) throw new Error('expected the lease');
    const old = acquired.lease;

    const ledger = new RunLedger(redis, { prefix, clock });
    await ledger.createRun(run('run-t', 'takeover'), plan('takeover'));

    now = new Date('2024-05-01T11:10:00.000Z');
    const taken = await lease.takeOver('takeover', 'run-t');
    expect(taken).toMatchObject({ runId: 'run-t', since: old.since, heartbeatAt: now.toISOString() });
    expect(taken!.token).toBeGreaterThan(old.token);

    expect(await lease.heartbeat('takeover', 'run-t', old.token)).toBe(false);
    expect(await lease.release('takeover', 'run-t', old.token)).toBe(false);
    await expect(
      ledger.transitionStep(
        'run-t',
        's1',
        ['pending'],
        'running',
        {},
        { topology: 'takeover', token: old.token },
      ),
    ).rejects.toBeInstanceOf(StaleTokenError);
    await expect(lease.assertFresh('takeover', 'run-t', old.token)).rejects.toMatchObject({
      code: 'STALE_TOKEN',
      current: taken!.token,
    });
    expect((await ledger.getStep('run-t', 's1'))?.state).toBe('pending');

    // The new worker's token works.
    await lease.assertFresh('takeover', 'run-t', taken!.token);
    expect(await lease.heartbeat('takeover', 'run-t', taken!.token)).toBe(true);
    const moved = await ledger.transitionStep(
      'run-t',
      's1',
      ['pending'],
      'running',
      {},
      {
        topology: 'takeover',
        token: taken!.token,
      },
    );
    expect(moved?.state).toBe('running');
  });

  it('takeOver of another run, or of a free topology, answers null', async () => {
    await lease.acquire('other', 'run-x', 'alice');
    expect(await lease.takeOver('other', 'run-y')).toBeNull();
    expect(await lease.takeOver('nobody-here', 'run-x')).toBeNull();
  });

  it('heartbeat moves heartbeatAt only for the current (run, token)', async () => {
    now = new Date('2024-05-01T12:00:00.000Z');
    const acquired = await lease.acquire('beat', 'run-h', 'alice');
    if (!acquired.ok) throw new Error('expected the lease');
    now = new Date('2024-05-01T12:00:30.000Z');
    expect(await lease.heartbeat('beat', 'run-other', acquired.lease.token)).toBe(false);
    expect(await lease.heartbeat('beat', 'run-h', acquired.lease.token)).toBe(true);
    expect(await lease.current('beat')).toMatchObject({
      since: '2024-05-01T12:00:00.000Z',
      heartbeatAt: '2024-05-01T12:00:30.000Z',
    });
  });

  it('refuses release with a wrong token; after release a new run gets a higher token', async () => {
    const acquired = await lease.acquire('cycle', 'run-1', 'alice');
    if (!acquired.ok) throw new Error('expected the lease');
    const token = acquired.lease.token;
    expect(await lease.release('cycle', 'run-1', token + 1)).toBe(false);
    expect(await lease.release('cycle', 'run-2', token)).toBe(false);
    expect(await lease.current('cycle')).not.toBeNull();

    expect(await lease.release('cycle', 'run-1', token)).toBe(true);
    expect(await lease.current('cycle')).toBeNull();
    await expect(lease.assertFresh('cycle', 'run-1', token)).rejects.toMatchObject({ current: null });

    const next = await lease.acquire('cycle', 'run-2', 'bob');
    expect(next.ok && next.lease.token).toBeGreaterThan(token);
  });
});

function run(id: string, topology: string): RunRecord {
  return {
    id,
    topology,
    runbook: 'test',
    target: null,
    requester: 'alice',
    state: 'running',
    planHash: 'h1',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    reason: null,
    dryRun: false,
  };
}

function plan(topology: string): Plan {
  const step: PlanStep = {
    id: 's1',
    templateId: 's1',
    title: 'step one',
    node: 'n1',
    engine: 'postgres',
    risk: 'read',
    action: { kind: 'noop', sleepMs: 0 },
    captures: [],
    check: null,
    stage: 0,
    gate: null,
  };
  return {
    runbook: 'test',
    topology,
    target: null,
    basis: {
      flavour: 'coremedia',
      probedAt: now.toISOString(),
      unknown: [],
      summary: '',
      followUp: null,
      facts: {},
    },
    steps: [step],
    warnings: [],
    hash: 'h1',
  };
}

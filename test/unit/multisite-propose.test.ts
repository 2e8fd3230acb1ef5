import { proposeRestoration, type ProposeFacts } from '../../src/flavours/multisite/propose';
import type { Packet } from '../../src/flavours/multisite/parse-lspacket';

const packet = (from: string, to: string): Packet => ({
  path: `/bay/incoming/sync_${to}_1`,
  type: 'UPDATE',
  from,
  fromGuid: null,
  sent: null,
  recipients: [to],
  importable: [to],
  family: 'fam',
  oplogs: {},
  incarnation: null,
  restorationRequest: null,
  bay: 'incoming',
});

/** A replica as the probe sees it; `a` held `aOps` of a's ops in every sibling's own row. */
function replica(name: string, over: Partial<ProposeFacts> = {}): ProposeFacts {
  const matrix = { [name]: { a: 10, b: 5, c: 7, [name]: 10 } };
  return {
    name,
    replica: name,
    reachable: true,
    matrix,
    ownOps: 10,
    actualWarnings: [],
    packets: [],
    restoring: false,
    awaiting: [],
    databaseError: null,
    manifest: null,
    ...over,
  };
}

const lost = replica('a', {
  matrix: null,
  ownOps: null,
  actualWarnings: null,
  databaseError: 'database fam_a does not exist',
  manifest: { ownOps: 6, takenAt: null },
});
const restoredA = replica('a', {
  ownOps: 6,
  actualWarnings: [{ kind: 'fewer-own', replica: 'a', other: 'b' }],
  manifest: { ownOps: 6, takenAt: null },
});

describe('proposeRestoration', () => {
  it.each([
    ['a database that is gone', [lost, replica('b'), replica('c')], 'database-lost'],
    ['the lsepoch -actual warning', [restoredA, replica('b'), replica('c')], 'lsepoch-warning'],
    [
      'a restoration under way',
      [replica('a', { restoring: true, awaiting: ['c'] }), replica('b'), replica('c')],
      'in-restoration',
    ],
  ] as const)('start rule: proposes a restoration on evidence: %s', (_what, replicas, evidence) => {
    const p = proposeRestoration({ replicas: [...replicas], target: null });
    expect(p.restore).toBe('a');
    expect(p.evidence).toBe(evidence);
    expect(p.siblings).toEqual(['b', 'c']);
    expect(p.refusals).toEqual([]);
  });

  it('start rule: refuses a replica with no evidence ("not restored from backup")', () => {
    const p = proposeRestoration({ replicas: [replica('a'), replica('b'), replica('c')], target: 'a' });
    expect(p.restore).toBeNull();
    expect(p.refusals).toEqual([expect.objectContaining({ code: 'no-evidence', replica: 'a' })]);
    expect(p.refusals[0]!.message).toMatch(/a was not restored from backup/);
    // Without a target nothing is proposed and nothing refused: the family is healthy.
    const none = proposeRestoration({ replicas: [replica('a'), replica('b')], target: null });
    expect(none).toMatchObject({ restore: null, refusals: [] });
    expect(none.verdicts).toEqual({ a: 'healthy', b: 'healthy' });
  });

  it('immediacy rule: refuses a restored replica whose own row moved past the backup', () => {
    const written = { ...restoredA, ownOps: 7 };
    const p = proposeRestoration({ replicas: [written, replica('b'), replica('c')], target: 'a' });
    expect(p.restore).toBeNull();
    expect(p.refusals).toEqual([expect.objectContaining({ code: 'changed-since-restore' })]);
    expect(p.refusals[0]!.message).toMatch(/own ops 7 > 6 in the backup.*irreparable/);
  });

  it('step-3 gate: closed by a packet from R still waiting, and by an unknown sibling', () => {
    const open = proposeRestoration({ replicas: [lost, replica('b'), replica('c')], target: 'a' });
    expect(open.step3).toEqual({ open: true, blocking: [] });
    const waiting = proposeRestoration({
      replicas: [lost, replica('b', { packets: [packet('a', 'b'), packet('c', 'b')] }), replica('c')],
      target: 'a',
    });
    expect(waiting.step3).toEqual({ open: false, blocking: ['b: 1 packet(s) from a not imported'] });
    const unknown = proposeRestoration({
      replicas: [lost, replica('b'), replica('c', { reachable: false, matrix: null, packets: null })],
      target: 'a',
    });
    expect(unknown.step3).toEqual({ open: false, blocking: ['c: unknown (bays not readable)'] });
    expect(unknown.verdicts.c).toMatch(/^unknown: host not reachable \(not acknowledged/);
    // Still proposed: the run waits at step 3 with c named, it does not guess.
    expect(unknown.restore).toBe('a');
  });

  it('loss window: what each sibling holds of R comes back; beyond that is lost', () => {
    const b = replica('b', { matrix: { b: { a: 9, b: 5 } } });
    const c = replica('c', { matrix: { c: { a: 8, c: 7 } } });
    const p = proposeRestoration({ replicas: [lost, b, c], target: 'a', lastSeenOwnOps: { a: 12 } });
    expect(p.lossWindow).toEqual({
      backupOwnOps: 6,
      heldBySibling: { b: 9, c: 8 },
      recoverableUpTo: 9,
      lastSeenOwnOps: 12,
      lostOps: 3,
    });
    // An unknown sibling might hold more: no bound is claimed.
    const dark = proposeRestoration({
      replicas: [lost, b, replica('c', { reachable: false, matrix: null })],
      target: 'a',
    });
    expect(dark.lossWindow).toMatchObject({
      heldBySibling: { b: 9, c: null },
      recoverableUpTo: null,
      lostOps: null,
    });
  });

  it('refuses while a sibling is itself in restoration, and an unreachable target', () => {
    const p = proposeRestoration({ replicas: [lost, replica('b', { restoring: true })], target: 'a' });
    expect(p.refusals.map((r) => r.code)).toEqual(['sibling-restoring']);
    const q = proposeRestoration({
      replicas: [replica('a', { reachable: false, matrix: null }), replica('b')],
      target: 'a',
    });
    expect(q.refusals.map((r) => r.code)).toEqual(['replica-unknown']);
    expect(q.restore).toBeNull();
  });
});

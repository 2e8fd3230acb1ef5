import { msUnknownOutcome } from '../../src/flavours/multisite/unknown-outcome';
import type { PlanStep } from '../../src/runbook/types';
import { multisiteReport, multisiteStatus } from '../helpers/multisite-status';

/** What the halt says about a restorereplica whose worker died, from the replica's own lsreplica. */
const step = (templateId: string): PlanStep => ({
  id: `${templateId}--a`,
  templateId,
  title: templateId,
  node: 'a',
  engine: null,
  risk: 'destructive',
  action: { kind: 'command', argv: ['true'], where: 'host', timeoutMs: 1000 },
  captures: [],
  check: null,
  stage: 1,
  gate: 'restore',
});

it.each([
  [
    'locked and in restoration: it ran, mark it done',
    multisiteStatus('a', { role: 'restoring', locked: true, restoring: true, awaiting: ['b', 'c'] }),
    'a is locked and in restoration (owed by b, c): restorereplica ran, so mark it done (a retry would be refused: already in restoration)',
  ],
  [
    'not in restoration: it did not run, retry',
    multisiteStatus('a'),
    'a is not in restoration: restorereplica did not run, so retry is safe (it checks again that a did not change since its restore)',
  ],
  [
    'unreachable: unknown, look by hand',
    multisiteStatus('a', { reachable: false, restoring: null, error: 'unreachable: connect ECONNREFUSED' }),
    'a cannot be read now (unreachable: connect ECONNREFUSED): whether restorereplica ran is unknown; look at lsreplica -long there before deciding',
  ],
])('%s', (_name, a, said) => {
  expect(msUnknownOutcome(step('restorereplica'), multisiteReport([a, multisiteStatus('b')]))).toBe(said);
});

it('says nothing about other steps (their own retry rules apply)', () => {
  const report = multisiteReport([multisiteStatus('a', { restoring: true, locked: true })]);
  expect(msUnknownOutcome(step('acknowledgements'), report)).toBeNull();
});

import { tungstenUnknownOutcome } from '../../src/flavours/tungsten/unknown-outcome';
import type { PlanStep } from '../../src/runbook/types';
import { healthy, node, report } from '../helpers/tungsten-status';

/** What the halt says about a destructive step of the external restore whose worker died. */
const step = (templateId: string): PlanStep => ({
  id: `${templateId}--host2`,
  templateId,
  title: templateId,
  node: 'host2',
  engine: 'mysql',
  risk: 'destructive',
  action: { kind: 'command', argv: ['true'], where: 'host', timeoutMs: 1000 },
  captures: [],
  check: null,
  stage: 1,
  gate: templateId,
});

const offline = (extra: Parameters<typeof node>[2] = {}) => {
  const [host1, , host3] = healthy();
  const h2 = node('host2', 'replica', extra);
  return report([host1!, { ...h2, replicator: { ...h2.replicator!, state: 'OFFLINE:NORMAL' } }, host3!]);
};

it.each([
  [
    'purge-thl',
    'purge-thl',
    offline(),
    "host2's replicator is OFFLINE:NORMAL; purging its THL again is safe while it is OFFLINE:NORMAL, so retry",
  ],
  [
    'restore',
    'restore',
    offline(),
    "host2's replicator is OFFLINE:NORMAL; a restore cut short leaves partial data, so retry (it restores again from the start), never mark it done",
  ],
  [
    'dsctl-reset, the row as it reads now',
    'dsctl-reset',
    offline(),
    'host2: its trep_commit_seqno reads seqno 110, epoch 7, event mysql-bin.000001:0000000000001000;-1, source host1; replicator OFFLINE:NORMAL. dsctl set -reset replaces that row with the same values each time, so retry is safe; mark it done only if the row already equals the reset values in this thread',
  ],
  [
    'dsctl-reset, the row unreadable',
    'dsctl-reset',
    offline({ trep: null, trepError: "Table 'tungsten_alpha.trep_commit_seqno' doesn't exist" }),
    "host2: its trep_commit_seqno cannot be read (Table 'tungsten_alpha.trep_commit_seqno' doesn't exist); replicator OFFLINE:NORMAL. dsctl set -reset replaces that row with the same values each time, so retry is safe; mark it done only if the row already equals the reset values in this thread",
  ],
])('%s', (_name, templateId, r, said) => {
  expect(tungstenUnknownOutcome(step(templateId), r)).toBe(said);
});

it('says nothing about the other steps', () => {
  expect(tungstenUnknownOutcome(step('recover'), offline())).toBeNull();
});

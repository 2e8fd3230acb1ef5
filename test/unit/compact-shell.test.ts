import type { RunRecord } from '../../src/engine/types';
import { emptyResult } from '../../src/runbook/sql-executor';
import { parseShellInput } from '../../src/shell/shell-input';
import { displayWidth } from '../../src/shell/compact';
import { TerminalOutbox } from '../../src/shell/terminal-outbox';
import { approvalRequestMessage, planMessage, stepResultReply } from '../../src/slack/blocks';
import { statusMessage } from '../../src/flavours/coremedia/status-blocks';
import { planFor, STATUS } from '../helpers/plan-fixtures';

/** The chat shell at a terminal: 80 columns, one line per step result, the gate and its choices, details on request. */
describe('compact rendering', () => {
  const plan = planFor('rls-3');
  const run: RunRecord = {
    id: 'live-20261121-094514-0d8d',
    topology: plan.topology,
    runbook: plan.runbook,
    target: 'rls-3',
    requester: 'U0ALICE',
    state: 'awaiting-approval',
    planHash: plan.hash,
    createdAt: '2026-11-21T09:45:14.000Z',
    updatedAt: '2026-11-21T09:45:15.000Z',
    reason: null,
    dryRun: false,
  };
  const screen = () => {
    let out = '';
    return { box: new TerminalOutbox((t) => (out += t), { compact: true }), text: () => out };
  };
  const lines = (text: string) => text.split('\n').filter((l) => l !== '');

  it('keeps every line within 80 columns and shows no Slack markup', async () => {
    const { box, text } = screen();
    // Many buttons: their numbered choices wrap instead of running past 80 columns.
    const runbooks = [
      'slave-from-master-sql',
      'in-sync-replicator-settings',
      'master-from-slave',
      'slave-from-master',
    ];
    await box.post('c', statusMessage(STATUS, runbooks));
    await box.post('c', planMessage(plan));
    expect(text()).toMatch(/\[5\] Plan slave-from-master/);
    for (const l of lines(text())) expect(displayWidth(l)).toBeLessThanOrEqual(80);
    expect(text()).not.toMatch(/`|<@|:[a-z_]+:|\*[A-Za-z][^*\n]*\*/);
  });

  it('a step result is one line, with its details on request', async () => {
    const { box, text } = screen();
    const step = plan.steps[0]!;
    const result = { ...emptyResult(), ok: true, rowCount: 1, durationMs: 12 };
    const { ts } = await box.post('c', stepResultReply(step, result), 'm0');
    const shown = lines(text());
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(new RegExp(`^ {2}↳ ✅ ${step.id} on ${step.node}.*\\(/details ${ts}\\)$`));
    const before = text().length;
    expect(box.details(ts)).toBe(true);
    expect(text().slice(before)).toContain(`[${ts}] in full:`);
    expect(lines(text().slice(before)).length).toBeGreaterThan(3);
  });

  it('an approval request shows its gate and its numbered choices in a few lines', async () => {
    const { box, text } = screen();
    const gateSteps = plan.steps.filter((s) => s.risk === 'destructive').slice(0, 3);
    await box.post('c', approvalRequestMessage(run, gateSteps[0]!.gate ?? 'g', gateSteps, plan.hash), 'm0');
    const shown = lines(text());
    expect(shown.length).toBeLessThanOrEqual(4);
    expect(shown[0]).toMatch(/Approval needed: gate/);
    expect(shown.at(-1)).toMatch(/\[1\] Approve {3}\[2\] Reject/);
    for (const l of shown) expect(displayWidth(l)).toBeLessThanOrEqual(80);
  });

  it('shows what is still to do by hand, and a failure, whole', async () => {
    const { box, text } = screen();
    const step = plan.steps[0]!;
    await box.post(
      'c',
      stepResultReply(step, { ...emptyResult(), ok: false, error: 'connection refused' }),
      'm0',
    );
    expect(text()).toContain('connection refused');
    expect(text()).not.toContain('/details');
  });

  it('/details, /full and /compact are shell commands', () => {
    expect(parseShellInput('/details m12')).toEqual({ kind: 'details', ts: 'm12' });
    expect(parseShellInput('/details')).toEqual({ kind: 'details' });
    expect(parseShellInput('/details rm -rf').kind).toBe('mistake');
    expect(parseShellInput('/full')).toEqual({ kind: 'view', compact: false });
    expect(parseShellInput('/compact')).toEqual({ kind: 'view', compact: true });
  });
});

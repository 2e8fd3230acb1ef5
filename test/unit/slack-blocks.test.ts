import type { Button, KnownBlock } from '@slack/types';
import type { Plan } from '../../src/runbook/types';
import { ACTION } from '../../src/slack/constants';
import {
  errorMessage,
  helpMessage,
  planMessage,
  type PlanButtonValue,
  type SlackMessage,
  type StartButtonValue,
} from '../../src/slack/blocks';
import { statusMessage } from '../../src/flavours/coremedia/status-blocks';
import { master, node, planFor, slave, status, STATUS, unread, with3 } from '../helpers/plan-fixtures';

/** Every mrkdwn/plain text of a message, in order. */
const textOf = (m: SlackMessage): string => {
  const walk = (v: unknown): string[] =>
    Array.isArray(v)
      ? v.flatMap(walk)
      : v && typeof v === 'object'
        ? Object.entries(v).flatMap(([k, x]) => (k === 'text' && typeof x === 'string' ? [x] : walk(x)))
        : [];
  return walk(m.blocks).join('\n');
};
const buttonsOf = (m: SlackMessage): Button[] =>
  m.blocks.flatMap((b: KnownBlock) =>
    b.type === 'actions'
      ? (b.elements as Button[])
      : b.type === 'section' && b.accessory
        ? [b.accessory as Button]
        : [],
  );
const RUNBOOKS = ['slave-from-master-sql', 'in-sync-replicator-settings'];

describe('statusMessage', () => {
  const msg = statusMessage(STATUS, RUNBOOKS);
  const text = textOf(msg);

  test('header names topology, flavour and probe time', () => {
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Status: live' } });
    expect(text).toContain('coremedia · probed 2026-11-21T09:00:00.000Z in 40 ms · 5 nodes');
  });

  test('the node table is the terminal one, in a code block, "—" for unknown values', () => {
    expect(text).toMatch(/```\nNODE +ROLE +ENGINE +STATE +REMOTE +LOCAL +TAG +REPL-ID ROWS +SERVER TYPE/);
    expect(text).toMatch(/mls +master +postgres +ok +— +— +— +0 +publication +1050 tag-1050 +2 ms/);
    expect(text).toMatch(/rls-4 +slave +postgres +ok +1042 +1042 +tag-1042 +2 +live +— +2 ms/);
  });

  test('the proposal line and one verdict per slave, chosen first', () => {
    expect(text).toContain('*Dedicated sequence number:* 1042; *dedicated slave:* `rls-1`');
    const slaves = ['rls-1', 'rls-2', 'rls-3', 'rls-4'];
    for (const name of slaves) expect(text).toContain(`\`${name}\`  ${STATUS.verdicts[name]}`);
    expect(text).toContain(':star: `rls-1`  chosen');
    expect(text).toContain('*To restore from the dedicated backup:* rls-3, rls-4');
  });

  test('every warning has its :warning:', () => {
    expect(STATUS.warnings.length).toBeGreaterThan(0);
    for (const w of STATUS.warnings) expect(text).toContain(`:warning: ${w.message.replace(/>/g, '&gt;')}`);
  });

  test('a tie and a fallback ask for confirmation', () => {
    const tie = status([
      master,
      slave('rls-1', 1042),
      slave('rls-2', 1042),
      slave('rls-3', 1030),
      slave('rls-4', 1030),
    ]);
    expect(tie.tie).toBe(true);
    expect(textOf(statusMessage(tie, []))).toContain('1042 (TIE between 1030, 1042) :warning: confirm;');
    const fallback = status([master, slave('rls-1', 1042, 2), slave('rls-2', 1042, 1), slave('rls-3', 1030)]);
    expect(fallback.fallback).toBe(true);
    expect(textOf(statusMessage(fallback, []))).toContain(
      '*dedicated slave:* `rls-3` (FALLBACK) :warning: confirm',
    );
  });

  test('an unreachable node is marked in the table and listed with its error', () => {
    const down = statusMessage(with3(unread('rls-3', 'unreachable: connection refused', false)), []);
    expect(textOf(down)).toMatch(/rls-3 +slave +mysql +UNREACHABLE +— +— +— +— +— +— +—/);
    expect(textOf(down)).toContain('*Unknown nodes*\n:x: `rls-3`: unreachable: connection refused');
  });

  test('Refresh and one Plan button per runbook, with their values', () => {
    const buttons = buttonsOf(msg);
    expect(buttons.map((b) => [b.action_id, b.text.text])).toEqual([
      [ACTION.refreshStatus, 'Refresh'],
      [ACTION.showPlan, 'Plan slave-from-master-sql'],
      [ACTION.showPlan, 'Plan in-sync-replicator-settings'],
    ]);
    expect(JSON.parse(buttons[0]!.value!)).toEqual({ topology: 'live' });
    const plans = buttons.slice(1).map((b) => JSON.parse(b.value!) as PlanButtonValue);
    expect(plans).toEqual(RUNBOOKS.map((runbook) => ({ topology: 'live', runbook, target: null })));
  });

  test('DB text cannot mention or link: <!channel> in a tag is escaped', () => {
    const evil = status([
      master,
      node('rls-1', { replicatorRemote: 1042, replicatorTag: '<!channel>' }),
      unread('rls-2', 'oops <@U999> <https://evil.example|click> & ```'),
    ]);
    const m = statusMessage(evil, []);
    const json = JSON.stringify(m);
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).toContain('oops &lt;@U999&gt; &lt;https://evil.example|click&gt; &amp;');
    expect(json).not.toMatch(/<!channel>|<@U999>|<https/);
  });
});

describe('planMessage', () => {
  const plan = planFor('rls-3');
  const msg = planMessage(plan);
  const text = textOf(msg);

  test('header: runbook, topology, target, short hash, basis', () => {
    expect(text).toContain('Plan: slave-from-master-sql on live');
    expect(text).toContain(
      `*Target:* \`rls-3\` · *Hash:* \`${plan.hash.slice(0, 12)}\` · 6 steps in 6 stages`,
    );
    expect(text).toContain(
      'dedicated sequence 1042, dedicated slave rls-1; in sync: rls-1, rls-2; to restore: rls-3, rls-4',
    );
  });

  test('every step: id, node, risk, gate, the exact SQL and readable parameters, check, captures', () => {
    for (const s of plan.steps) {
      expect(text).toContain(`\`${s.id}\` on \`rls-3\` (mysql)`);
      if (s.action.kind === 'sql') expect(text).toContain(s.action.sql);
    }
    expect(text).toContain(':mag: read · stage 1');
    expect(text).toContain(':rotating_light: DESTRUCTIVE · gate `replicator-rows`');
    expect(text).toContain(
      "VALUES ('replicator_remote', ?)\n  $1 = sequenceno from read-changelog--rls-3\n```",
    );
    expect(text).toContain('check: at least 1 row · captures: sequenceno, idtag');
    expect(text).toContain(
      '*Approvals needed:* 3 (replicator-rows: 3 steps, delete-licenses, set-server-type)',
    );
    expect(text).toContain(':warning: Master mls is ahead');
  });

  test('Start carries the full plan hash and asks for confirmation', () => {
    const [start, ...rest] = buttonsOf(msg);
    expect(rest).toEqual([]);
    expect(start).toMatchObject({ action_id: ACTION.startRun, style: 'primary' });
    const value: StartButtonValue = {
      topology: 'live',
      runbook: 'slave-from-master-sql',
      target: 'rls-3',
      planHash: plan.hash,
    };
    expect(JSON.parse(start!.value!)).toEqual(value);
    expect(start!.confirm?.text.text).toBe(
      'Start slave-from-master-sql on live? Destructive steps will wait for a second person.',
    );
  });

  test('SQL cannot break out of its code block; a plan with no steps has no Start', () => {
    const step = {
      ...plan.steps[0]!,
      action: { kind: 'sql' as const, sql: "SELECT '```', '<!here>'", params: [] },
    };
    const m = planMessage({ ...plan, steps: [step] });
    const t = textOf(m);
    expect(t).toContain("SELECT '`\u200b`\u200b`', '&lt;!here&gt;'");
    expect(t.match(/```/g)!.length % 2).toBe(0);
    const empty: Plan = { ...plan, steps: [] };
    expect(textOf(planMessage(empty))).toContain('No steps: nothing to do for this fleet.');
    expect(buttonsOf(planMessage(empty))).toEqual([]);
  });

  test('many steps on many slaves are summarised per stage and statement', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      ...plan.steps[1]!,
      id: `insert-replicator-remote--rls-${i}`,
      node: `rls-${i}`,
    }));
    const t = textOf(planMessage({ ...plan, steps: many }));
    expect(t).toContain('`insert-replicator-remote` on 60 nodes (`rls-0`, `rls-1`');
    expect(t).toContain('and 48 more)');
    expect(t).not.toContain('not shown');
  });
});

describe('helpMessage and errorMessage', () => {
  test('every subcommand, one line each, and the names to use', () => {
    const t = textOf(helpMessage(['live', 'stage'], ['slave-from-master-sql']));
    for (const usage of [
      '/recover status [TOPOLOGY]',
      '/recover plan TOPOLOGY RUNBOOK [TARGET]',
      '/recover run TOPOLOGY RUNBOOK [TARGET]',
      '/recover abort RUN',
      '/recover runs [TOPOLOGY]',
      '/recover timeline RUN',
      '/recover help',
    ])
      expect(t).toMatch(new RegExp(`^\`${usage.replace(/[[\]]/g, '\\$&')}\`: \\S`, 'm'));
    expect(t).toContain('*Topologies:* `live`, `stage`\n*Runbooks:* `slave-from-master-sql`');
  });

  test('an error says what is wrong and what would be right, escaped', () => {
    const m = errorMessage('unknown topology "<!here>"', 'have: live, stage');
    expect(m.blocks).toHaveLength(2);
    expect(textOf(m)).toBe(':x: unknown topology "&lt;!here&gt;"\nhave: live, stage');
    expect(textOf(errorMessage('no'))).toContain('see `/recover help`');
  });
});

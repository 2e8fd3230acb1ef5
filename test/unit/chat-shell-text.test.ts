import { ACTION } from '../../src/slack/constants';
import { errorMessage, planMessage } from '../../src/slack/blocks';
import { statusMessage } from '../../src/flavours/coremedia/status-blocks';
import { mrkdwnToText, renderMessage } from '../../src/shell/render-message';
import { parseShellInput } from '../../src/shell/shell-input';
import { TerminalOutbox } from '../../src/shell/terminal-outbox';
import { planFor, STATUS } from '../helpers/plan-fixtures';

describe('mrkdwnToText', () => {
  test.each<[string, string[]]>([
    ['*bold* and _it_', ['bold and _it_']],
    ['a &lt;b&gt; &amp; c', ['a <b> & c']],
    ['<@U123ABC> approved', ['@U123ABC approved']],
    ['see <https://example.com/x|the docs>', ['see the docs']],
    [':white_check_mark: done :unknown_emoji:', ['✅ done :unknown_emoji:']],
    [
      'before\n```\nSELECT * FROM t WHERE a &lt; 2\n```\nafter',
      ['before', '    SELECT * FROM t WHERE a < 2', 'after'],
    ],
    ['```\nx*y*z\n```', ['    x*y*z']],
  ])('%j', (input, lines) => expect(mrkdwnToText(input)).toEqual(lines));
});

describe('renderMessage', () => {
  test('a status message keeps its table and offers its buttons, in order', () => {
    const { lines, buttons } = renderMessage(statusMessage(STATUS, ['slave-from-master-sql']));
    expect(lines[0]).toBe('== Status: live ==');
    expect(lines.some((l) => /^\s{4}NODE\s+ROLE/.test(l))).toBe(true);
    expect(buttons.map((b) => b.actionId)).toEqual([ACTION.refreshStatus, ACTION.showPlan]);
    expect(JSON.parse(buttons[1]!.value)).toMatchObject({ runbook: 'slave-from-master-sql' });
  });

  test("a plan's Start button carries Slack's confirmation dialog", () => {
    const { buttons } = renderMessage(planMessage(planFor('rls-3')));
    const start = buttons.find((b) => b.actionId === ACTION.startRun)!;
    expect(start.confirm?.title).toBeTruthy();
    expect(start.confirm?.text).toContain('Start');
  });
});

describe('TerminalOutbox', () => {
  const screen = () => {
    let out = '';
    return { box: new TerminalOutbox((t) => (out += t)), text: () => out };
  };

  test('numbers buttons across messages; a label clicks the newest', async () => {
    const { box, text } = screen();
    await box.post('c', statusMessage(STATUS, ['slave-from-master-sql']));
    const second = await box.post('c', statusMessage(STATUS, ['slave-from-master-sql']));
    expect(text()).toContain('[1] Refresh   [2] Plan slave-from-master-sql');
    expect(text()).toContain('[3] Refresh   [4] Plan slave-from-master-sql');
    expect(box.choice('2')).toMatchObject({ number: 2, ts: 'm1' });
    expect(box.choice('refresh')).toMatchObject({ number: 3, ts: second.ts });
    expect(box.choice('9')).toBeUndefined();
  });

  test('an update prints only what changed; removed buttons can no longer be clicked', async () => {
    const { box, text } = screen();
    const { ts } = await box.post('c', statusMessage(STATUS, ['slave-from-master-sql']), 'm0');
    expect(text()).toContain('  ↳ [m1 in m0]');
    const before = text().length;
    await box.update('c', ts, statusMessage(STATUS, ['slave-from-master-sql']));
    expect(text().length).toBe(before); // same content, same buttons: nothing to say
    await box.update('c', ts, errorMessage('gone'));
    expect(text().slice(before)).toContain('✎ [m1] updated:');
    expect(text().slice(before)).toContain('gone');
    expect(box.choice('1')).toBeUndefined();
  });

  test('ephemeral messages say whom they are for', async () => {
    const { box, text } = screen();
    await box.ephemeral('c', 'alice', errorMessage('no'));
    expect(text()).toMatch(/^\(only alice sees this\)\n {2}❌ no/);
  });
});

describe('parseShellInput', () => {
  test.each([
    ['/recover status demo', { kind: 'slash', text: 'status demo' }],
    ['recover plan demo x', { kind: 'slash', text: 'plan demo x' }],
    ['/recover', { kind: 'slash', text: '' }],
    ['/as bob', { kind: 'as', user: 'bob' }],
    ['/as U0ABC', { kind: 'as', user: 'U0ABC' }],
    ['12', { kind: 'click', ref: '12' }],
    ['/click Approve', { kind: 'click', ref: 'Approve' }],
    ['/whoami', { kind: 'whoami' }],
    ['/quit', { kind: 'quit' }],
    ['  ', { kind: 'empty' }],
    ['# a comment in a script', { kind: 'empty' }],
  ])('%j', (line, parsed) => expect(parseShellInput(line)).toEqual(parsed));

  test.each(['/as', '/as bob; rm -rf /', '/as $(id)', '/click', 'rm -rf /'])('%j is a mistake', (line) =>
    expect(parseShellInput(line).kind).toBe('mistake'),
  );
});

import { TerminalOutbox } from '../../src/shell/terminal-outbox';

/** The shell shows a shared file (the timeline) whole: a page at a time for a person, nothing cut. */
describe('a shared file in the chat shell', () => {
  const file = {
    filename: 'r1-timeline.md',
    title: 'Incident timeline of r1',
    content: Array.from({ length: 95 }, (_, i) => `line ${i + 1}`).join('\n') + '\n',
  };

  it('pages it 40 lines at a time, /more by /more, to the last line', async () => {
    let out = '';
    const terminal = new TerminalOutbox((t) => (out += t), { pageLines: 40 });
    await terminal.upload('shell', file, 'Incident timeline of `r1`, asked for by <@alice>');
    expect(out).toContain('Incident timeline of `r1`, asked for by @alice');
    expect(out).toContain('📎 r1-timeline.md: Incident timeline of r1, 95 lines');
    expect(out).toContain('  line 40\n');
    expect(out).not.toContain('line 41');
    expect(out).toContain('-- lines 1–40 of 95 of r1-timeline.md: /more for the next 40 --');
    expect(terminal.more()).toBe(true);
    expect(out).toContain('-- lines 41–80 of 95 of r1-timeline.md: /more for the next 15 --');
    expect(terminal.more()).toBe(true);
    expect(out).toContain('  line 95\n');
    expect(terminal.more()).toBe(false);
    for (let i = 1; i <= 95; i++) expect(out).toContain(`  line ${i}\n`);
  });

  it('prints it whole for a script', async () => {
    let out = '';
    await new TerminalOutbox((t) => (out += t)).upload('shell', file, 'timeline');
    expect(out).toContain('  line 95\n');
    expect(out).not.toContain('/more');
  });
});

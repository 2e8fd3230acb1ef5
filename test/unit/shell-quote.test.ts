import { spawnSync } from 'node:child_process';
import { shellCommand, shellQuote } from '../../src/hosts/quote';

/** What a real /bin/sh hands to a program when it runs our quoted command line. */
function throughShell(args: string[]): string[] {
  const script = shellCommand(['printf', '%s\\0', ...args]);
  const out = spawnSync('/bin/sh', ['-c', script], { encoding: 'buffer' });
  expect(out.status).toBe(0);
  const text = out.stdout.toString('utf8');
  return text.length === 0 ? [] : text.slice(0, -1).split('\0');
}

const nasty = [
  '',
  ' ',
  'plain',
  "it's",
  "'",
  "''",
  '"double"',
  '\\',
  "\\'",
  'a\nb',
  '\n',
  '$(touch /tmp/recover-pwned)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a; rm -rf /',
  'x && y || z',
  '| cat',
  '> /tmp/x',
  '*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '#comment',
  '-n',
  '--password=secret',
  '=cmd',
  'tab\there',
  'utf8 ünïcødé ✓',
  '\u0001\u001b[31mred',
  'mixed \'single\' and "double" and $(sub) and `tick`',
];

describe('shellQuote through a real /bin/sh', () => {
  it.each(nasty.map((arg) => [JSON.stringify(arg), arg]))('%s arrives verbatim', (_label, arg) => {
    expect(throughShell([arg])).toEqual([arg]);
  });

  it('keeps many arguments apart, empty ones included', () => {
    expect(throughShell(nasty)).toEqual(nasty);
  });

  it('round-trips every character from 1 to 255 in one argument', () => {
    const all = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
    const out = spawnSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(all)}`], { encoding: 'buffer' });
    expect(out.stdout.equals(Buffer.from(all, 'utf8'))).toBe(true);
  });

  it('leaves plain words readable and quotes everything else', () => {
    expect(shellCommand(['systemctl', 'stop', 'cm-mls.service'])).toBe('systemctl stop cm-mls.service');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('=cmd')).toBe("'=cmd'");
  });

  it('refuses what a shell cannot carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
    expect(() => shellCommand([])).toThrow(/empty/);
  });
});

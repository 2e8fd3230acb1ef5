/**
 * POSIX shell quoting for argv that must pass through a shell (the remote login shell over SSH).
 * Single quotes make every byte literal except `'` itself, which is closed, escaped and reopened:
 * nothing inside ($, `, \, ;, newlines) is interpreted, so user-derived values stay data.
 */
export function shellQuote(arg: string): string {
  // A shell argument is a C string: a NUL would silently cut it short, so refuse instead.
  if (arg.includes('\0')) throw new RangeError('shellQuote: an argument cannot contain a NUL byte');
  if (arg === '') return "''";
  // Plain words need no quotes, which keeps transcripts readable ("systemctl stop cm-mls").
  // A leading "=" stays quoted: zsh would expand "=cmd" to a path.
  if (/^[A-Za-z0-9_@%+:,./-][A-Za-z0-9_@%+=:,./-]*$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One shell command line that runs exactly argv (no word splitting, no expansion). */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new RangeError('shellCommand: empty argv');
  return argv.map(shellQuote).join(' ');
}

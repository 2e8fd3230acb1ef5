/** One line typed into the chat shell. Pure: no I/O. */
export type ShellInput =
  | { kind: 'empty' }
  | { kind: 'slash'; text: string }
  | { kind: 'as'; user: string }
  | { kind: 'whoami' }
  | { kind: 'more' }
  | { kind: 'details'; ts?: string }
  | { kind: 'view'; compact: boolean }
  | { kind: 'click'; ref: string }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'mistake'; problem: string };

/** User names as the topology's access lists spell them (Slack ids, or plain names for the terminal). */
const USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const SHELL_HELP = [
  'The Slack commands:  /recover status | plan | run | abort | runs | timeline | help',
  'Buttons:             type the number shown as [N] (or /click LABEL: /click Approve)',
  'Who you are:         /as NAME (/whoami shows it; the two-person rule applies)',
  'Long answers:        /more (next page of the timeline), /details mN (a message in',
  '                     full), /full or /compact (how messages are shown)',
  'Leave:               /quit (or Ctrl-D)',
].join('\n');

export function parseShellInput(line: string): ShellInput {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'empty' };
  if (/^\d+$/.test(text)) return { kind: 'click', ref: text };
  const [head = '', ...rest] = text.split(/\s+/);
  const args = rest.join(' ');
  switch (head) {
    case '/recover':
    case 'recover':
      return { kind: 'slash', text: args };
    case '/as':
      if (!USER.test(args))
        return { kind: 'mistake', problem: 'usage: /as NAME (letters, digits, ".", "_" or "-")' };
      return { kind: 'as', user: args };
    case '/whoami':
      return { kind: 'whoami' };
    case '/more':
      return { kind: 'more' };
    case '/details':
      if (args && !/^m\d+$/.test(args)) return { kind: 'mistake', problem: 'usage: /details [mN]' };
      return args ? { kind: 'details', ts: args } : { kind: 'details' };
    case '/full':
      return { kind: 'view', compact: false };
    case '/compact':
      return { kind: 'view', compact: true };
    case '/click':
      return args ? { kind: 'click', ref: args } : { kind: 'mistake', problem: 'usage: /click NUMBER|LABEL' };
    case '/help':
    case 'help':
      return { kind: 'help' };
    case '/quit':
    case '/exit':
    case 'exit':
    case 'quit':
      return { kind: 'quit' };
    default:
      return { kind: 'mistake', problem: `"${text.slice(0, 40)}" is not a shell command: try /help` };
  }
}

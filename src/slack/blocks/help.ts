import { SLASH_COMMAND } from '../constants';
import { composeMessage, context, escapeMrkdwn, header, section, truncateText } from './limits';
import { inline } from './parts';
import type { SlackMessage } from './types';

const COMMANDS: [string, string][] = [
  ['status [TOPOLOGY]', 'every node, what it holds, what to recover from and why'],
  [
    'plan TOPOLOGY RUNBOOK [TARGET]',
    'the concrete plan: every step, its node, its exact SQL, its risk; nothing runs',
  ],
  ['run TOPOLOGY RUNBOOK [TARGET]', 'start a run; destructive steps wait for a second person to approve'],
  ['abort RUN', 'stop a run: steps not yet started will not run'],
  ['runs [TOPOLOGY]', 'recent runs and their state'],
  ['timeline RUN', 'the run as an incident timeline: every command, result and click'],
  ['help', 'this message'],
];

/** `/recover help`: one line per subcommand, and the names this workspace can use. */
export function helpMessage(topologies: string[], runbooks: string[]): SlackMessage {
  const names = (list: string[]) =>
    list.length === 0 ? 'none configured' : truncateText(list.map(inline).join(', '), 1200, '…');
  const lines = COMMANDS.map(([args, what]) => `${inline(`${SLASH_COMMAND} ${args}`)}: ${what}`);
  return composeMessage(
    `${SLASH_COMMAND}: ${COMMANDS.map(([args]) => args.split(' ')[0]).join(', ')}`,
    [
      header('Recover: commands'),
      section(lines.join('\n')),
      section(`*Topologies:* ${names(topologies)}\n*Runbooks:* ${names(runbooks)}`),
      context(
        'A destructive step never runs until someone other than the requester approves it. ' +
          'When Slack is down, the same commands work from a terminal: `recover status`, `recover plan`, `recover run`.',
      ),
    ],
    '…',
  );
}

/** An ephemeral reply to a mistake: what is wrong, and what would be right. */
export function errorMessage(problem: string, hint?: string): SlackMessage {
  const what = escapeMrkdwn(truncateText(problem, 2000));
  const fix = hint ? escapeMrkdwn(truncateText(hint, 1500)) : `see ${inline(`${SLASH_COMMAND} help`)}`;
  return composeMessage(`Recover: ${what}`, [section(`:x: ${what}`), context(fix)], '…');
}

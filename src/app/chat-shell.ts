import { createInterface } from 'node:readline';
import { buttonClicks, type ClickHandler } from '../../commands/buttons';
import type { CommandDeps } from '../../commands/context';
import { dispatchSlash } from '../../commands/recover';
import { handleSlackJob } from '../../jobs/slack-processor';
import { RecoverConfig } from '../config/topology';
import { AlertStore } from '../monitor/alert-store';
import type { EngineEvent } from '../engine/types';
import { runbookNames, runbookNamesFor } from '../runbook/registry';
import { errorMessage } from '../slack/blocks';
import type { SlackMessage } from '../slack/blocks/types';
import { SlackNotifier } from '../slack/notifier';
import { RunThreads } from '../slack/run-threads';
import { InlineJobs } from '../shell/inline-jobs';
import { parseShellInput, SHELL_HELP } from '../shell/shell-input';
import { TerminalOutbox, type Choice } from '../shell/terminal-outbox';
import { createEngineRuntime } from './engine-runtime';

export interface ChatShellOptions {
  config: RecoverConfig;
  redisUrl: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  user: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** A person at a terminal (prompt, answers as they come) or a script (each line waits for quiet). */
  interactive: boolean;
  /** Run steps in this process; off when a `recover worker` or the bot shares the Redis. */
  worker: boolean;
  workerTimings?: { lockDurationMs?: number; stalledIntervalMs?: number };
  /** How long a scripted line may wait for runs to come to rest. */
  settleTimeoutMs?: number;
  /** Compact rendering (80 columns, details on request); default: when interactive. */
  compact?: boolean;
  /** Ends the shell as /quit would (SIGTERM). */
  signal?: AbortSignal;
}

/** The channel the shell's messages are "in"; access.channels (Slack channels) do not apply here. */
const SHELL_CHANNEL = 'shell';

/**
 * The local chat shell: the Slack app's own listeners, handlers and notifier, with the terminal as
 * Slack. `/as NAME` changes who is typing; the two-person rule and access lists apply unchanged.
 */
export async function runChatShell(o: ChatShellOptions): Promise<void> {
  const rl = createInterface({ input: o.input, terminal: o.interactive, output: o.output });
  rl.on('SIGINT', () => rl.close()); // Ctrl-C leaves, as Ctrl-D does
  o.signal?.addEventListener('abort', () => rl.close(), { once: true });
  // Take lines from now on: a script piped in may have arrived before the engine is up.
  const lines = rl[Symbol.asyncIterator]();
  let atPrompt = false;
  const write = (text: string) => {
    if (o.interactive && atPrompt) {
      o.output.write('\r\x1b[K' + text);
      rl.prompt(true);
      return;
    }
    o.output.write(text);
  };
  const onError = (err: Error) => write(`! ${err.message}\n`);
  // A person reads a long file a page at a time; a script gets it whole.
  // At a terminal: compact, 80 columns, a long file a page at a time; a script gets everything.
  const terminal = new TerminalOutbox(write, {
    pageLines: o.interactive ? 40 : Infinity,
    compact: o.compact ?? o.interactive,
  });

  const config = withoutChannelLimits(o.config);
  const forward: { to?: SlackNotifier } = {};
  const runtime = await createEngineRuntime({
    config,
    redisUrl: o.redisUrl,
    prefix: o.prefix,
    env: o.env,
    notifier: { notify: (e: EngineEvent) => forward.to!.notify(e) },
    onError,
  });
  // Runs the shell starts keep their threads apart from the bot's: neither speaks for the other.
  const threads = new RunThreads(runtime.redis, `${o.prefix}:shell`);
  const notifier = new SlackNotifier({
    outbox: terminal,
    threads,
    ledger: runtime.deps.ledger,
    clock: runtime.deps.clock,
    onError,
  });
  forward.to = notifier;
  if (o.worker) runtime.startWorker({ ...o.workerTimings, onError });
  const handlerDeps = {
    engine: runtime.deps,
    outbox: terminal,
    threads,
    alerts: new AlertStore(runtime.redis, o.prefix),
    runbookNames: runbookNamesFor,
  };
  const jobs = new InlineJobs((name, data) => handleSlackJob(handlerDeps, name, data), onError);
  const deps: CommandDeps = { config, jobs, runbookNames: runbookNames(), now: Date.now };
  const clicks = buttonClicks(deps);

  let user = o.user;
  let confirming: Choice | null = null;
  const say = (message: SlackMessage) => terminal.ephemeral(SHELL_CHANNEL, user, message);

  const click = async (choice: Choice) => {
    const handler: ClickHandler | undefined = clicks[choice.actionId as keyof typeof clicks];
    if (!handler) return say(errorMessage(`"${choice.label}" is not a button Recover knows`));
    await handler(
      { user, channel: SHELL_CHANNEL, messageTs: choice.ts, actionId: choice.actionId, value: choice.value },
      async (m) => say(m as SlackMessage),
    );
  };

  const handleLine = async (line: string): Promise<boolean> => {
    if (confirming) {
      const choice = confirming;
      confirming = null;
      if (/^(y|yes)$/i.test(line.trim())) await click(choice);
      else write(`(${choice.label} cancelled)\n`);
      return true;
    }
    const input = parseShellInput(line);
    switch (input.kind) {
      case 'empty':
        return true;
      case 'quit':
        return false;
      case 'help':
        write(SHELL_HELP + '\n');
        return true;
      case 'whoami':
        write(`you are ${user}\n`);
        return true;
      case 'more':
        if (!terminal.more()) write('nothing more to show\n');
        return true;
      case 'details':
        if (!terminal.details(input.ts)) write(`no message ${input.ts ?? 'yet'} (messages show as [mN])\n`);
        return true;
      case 'view':
        terminal.setCompact(input.compact);
        write(input.compact ? 'compact view: 80 columns, /details mN for more\n' : 'full view: every line\n');
        return true;
      case 'as':
        user = input.user;
        write(`you are now ${user}\n`);
        return true;
      case 'mistake':
        write(`${input.problem}\n`);
        return true;
      case 'slash':
        await dispatchSlash({
          deps,
          user,
          channel: SHELL_CHANNEL,
          team: 'local',
          text: input.text,
          ack: async (m) => (m && (m.blocks.length > 0 || m.text) ? say(m) : undefined),
          respond: async (m) => say(m),
        });
        return true;
      case 'click': {
        const choice = terminal.choice(input.ref);
        if (!choice) {
          write(`no button "${input.ref}" on screen (buttons show as [N] Label)\n`);
          return true;
        }
        if (choice.confirm) {
          confirming = choice;
          write(`${choice.confirm.title} ${choice.confirm.text} (yes/no)\n`);
          return true;
        }
        await click(choice);
        return true;
      }
    }
  };

  /** Scripts wait here after each line: requests answered, runs resting (done, or waiting for a person). */
  const settle = async () => {
    const deadline = Date.now() + (o.settleTimeoutMs ?? 120_000);
    for (let calm = 0; calm < 2;) {
      await jobs.idle();
      await notifier.drain();
      const busy = (await runtime.deps.queue.pending()) > 0 || !jobs.isIdle();
      calm = busy ? 0 : calm + 1;
      if (Date.now() > deadline) {
        write('(still running; going on with the script)\n');
        return;
      }
      await new Promise((r) => setTimeout(r, busy ? 100 : 200));
    }
  };

  const prompt = () => `${user}> `;
  write(
    `Recover chat shell. Topologies: ${config.topologies.map((t) => t.name).join(', ')}. ` +
      `You are ${user}. Type /help for help.\n`,
  );
  for (const w of runtime.warnings) write(`warning: ${w}\n`);
  try {
    if (o.interactive) {
      rl.setPrompt(prompt());
      rl.prompt();
      atPrompt = true;
    }
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      atPrompt = false;
      if (!o.interactive) write(`${prompt()}${line}\n`);
      const more = await handleLine(line);
      if (!more) break;
      if (o.interactive) await jobs.idle();
      else await settle();
      if (o.interactive) {
        rl.setPrompt(prompt());
        rl.prompt();
        atPrompt = true;
      }
    }
  } finally {
    atPrompt = false;
    rl.close();
    await jobs.close();
    await notifier.drain();
    await runtime.close();
  }
}

/** The terminal is not a Slack channel: per-channel limits are Slack's; who may act still holds. */
function withoutChannelLimits(config: RecoverConfig): RecoverConfig {
  return RecoverConfig.parse({
    ...config,
    topologies: config.topologies.map((t) => ({ ...t, access: { ...t.access, channels: undefined } })),
  });
}

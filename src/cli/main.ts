import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors';
import { defaultConfigFile, processEnv } from '../config/env';
import { UnsupportedFlavourError } from '../status/inspect';
import { PlanError } from '../runbook/resolve';
import { SettingsError } from '../slack/settings';
import type { CliContext } from './context';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './exit-codes';
import { registerBot } from './bot-command';
import { registerEngineCommands } from './engine-commands';
import { registerDemo } from './demo-command';
import { registerShell } from './shell-command';
import { registerMonitor } from './monitor-command';
import { registerStatus } from './status-command';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('recover')
    .description('Recover replicated database fleets: inspect, plan, run with a second pair of eyes.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerStatus(program, ctx);
  registerEngineCommands(program, ctx);
  registerBot(program, ctx);
  registerShell(program, ctx);
  registerDemo(program, ctx);
  registerMonitor(program, ctx);
  return program;
}

/** Run the CLI; resolves to the process exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    return reportError(err, ctx);
  }
}

function reportError(err: unknown, ctx: CliContext): number {
  // Help and version are not errors; everything else commander rejects is a usage mistake (already printed).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  // Config and settings errors are one line per problem, each naming the file or the variable.
  if (err instanceof ConfigError || err instanceof SettingsError) {
    ctx.stderr.write(err.problems.join('\n') + '\n');
    return EXIT_USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.stderr.write(`recover: ${message}\n`);
  const usage =
    err instanceof UsageError || err instanceof UnsupportedFlavourError || err instanceof PlanError;
  // Engine refusals (busy topology, self-approval, …) are answers, not crashes, but scripts must notice: 1.
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}

export function processContext(): CliContext {
  return {
    env: processEnv(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    defaultConfigFile: defaultConfigFile(),
    exitCode: 0,
    closeWithin: (work, ms) =>
      Promise.race([
        work.then(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
      ]),
    untilSignal: () =>
      new Promise((resolve) => {
        const onSignal = (signal: string) => {
          resolve(signal);
          // Graceful shutdown gets 10 s; a second signal or the deadline forces the exit.
          setTimeout(() => process.exit(EXIT_FAILURE), 10_000).unref();
          process.once('SIGINT', () => process.exit(EXIT_FAILURE));
          process.once('SIGTERM', () => process.exit(EXIT_FAILURE));
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }),
  };
}

/** The process entry (bin/recover.js). */
export function main(): void {
  void runCli(process.argv.slice(2), processContext()).then((code) => {
    // Exit explicitly once output is flushed: a black-holed node's socket must not keep the terminal waiting.
    process.stdout.write('', () => process.exit(code));
  });
}

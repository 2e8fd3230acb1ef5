import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors';
import { defaultConfigFile, processEnv } from '../config/env';
import { UnsupportedFlavourError } from '../status/inspect';
import type { CliContext } from './context';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './exit-codes';
import { registerStatus } from './status-command';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('recover')
    .description('Recover replicated database fleets: inspect, plan, run with a second pair of eyes.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerStatus(program, ctx);
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
  if (err instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a usage mistake.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    ctx.stderr.write(err.problems.join('\n') + '\n');
    return EXIT_USAGE;
  }
  if (err instanceof UsageError || err instanceof UnsupportedFlavourError) {
    ctx.stderr.write(`recover: ${err.message}\n`);
    return EXIT_USAGE;
  }
  ctx.stderr.write(`recover: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT_FAILURE;
}

export function processContext(): CliContext {
  return {
    env: processEnv(),
    stdout: process.stdout,
    stderr: process.stderr,
    defaultConfigFile: defaultConfigFile(),
    exitCode: 0,
    closeWithin: (work, ms) =>
      Promise.race([
        work.then(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
      ]),
  };
}

/** The process entry (bin/recover.js). */
export function main(): void {
  void runCli(process.argv.slice(2), processContext()).then((code) => {
    // Exit explicitly once output is flushed: a black-holed node's socket must not keep the terminal waiting.
    process.stdout.write('', () => process.exit(code));
  });
}

/**
 * Fleet fixtures from the terminal:
 *   npm run fleet -- up SCENARIO.yaml [--prefix P] [--out topology.yaml]
 *   npm run fleet -- down PREFIX_OR_SCENARIO [--prefix P]
 * Exit codes: 0 ok, 1 runtime failure (e.g. a server is down), 2 bad input.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import {
  createFleet,
  destroyFleet,
  FleetInputError,
  loadFleetState,
  normalizePrefix,
  planFleet,
} from '../src/flavours/coremedia/fleet/fleet';
import { loadScenarioFile } from '../src/flavours/coremedia/fleet/scenario';
import { ConfigError } from '../src/config/errors';

class UsageError extends Error {}

function looksLikeFile(arg: string): boolean {
  return /\.ya?ml$/i.test(arg) || arg.includes('/') || existsSync(arg);
}

async function up(file: string, opts: { prefix?: string; out?: string }): Promise<void> {
  const scenario = loadScenarioFile(file);
  const fleet = await createFleet(scenario, {
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    ...(opts.out ? { topologyFile: opts.out } : {}),
  });
  console.log(
    `fleet ${fleet.prefix} is up: ${fleet.databases.map((d) => `${d.node}=${d.database}`).join(' ')}`,
  );
  console.log(`topology: ${fleet.topologyFile}`);
  for (const [name, value] of Object.entries(fleet.env))
    console.log(`export ${name}='${value.replace(/'/g, `'\\''`)}'`);
}

async function down(target: string, opts: { prefix?: string }): Promise<void> {
  let state;
  if (looksLikeFile(target)) {
    const scenario = loadScenarioFile(target);
    const prefix = normalizePrefix(opts.prefix ?? scenario.name);
    // Without a state file (crashed `up`, deleted .fleet/) the scenario still names everything.
    state = loadFleetState(prefix) ?? planFleet(scenario, { prefix });
  } else {
    state = loadFleetState(opts.prefix ?? target);
    if (!state) throw new UsageError(`no fleet state for prefix "${target}" (.fleet/${target}.json)`);
  }
  await destroyFleet(state);
  console.log(`fleet ${state.prefix} is down: dropped ${state.databases.map((d) => d.database).join(' ')}`);
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('fleet')
    .description('CoreMedia-shaped database fleets on the local PostgreSQL and MariaDB')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('up')
    .argument('<scenario>', 'scenario YAML file')
    .option('--prefix <prefix>', 'database name prefix (default: scenario name)')
    .option('--out <file>', 'topology file to write (default: .fleet/<prefix>.topology.yaml)')
    .action(up);
  program
    .command('down')
    .argument('<target>', 'fleet prefix or scenario YAML file')
    .option('--prefix <prefix>', 'prefix used at `up` when it was not the scenario name')
    .action(down);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof Error ? err.message : String(err);
    // A config error is already one line per problem, each naming the file.
    console.error(err instanceof ConfigError ? message : `fleet: ${message}`);
    const usage = [ConfigError, UsageError, FleetInputError].some((c) => err instanceof c);
    return usage ? 2 : 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});

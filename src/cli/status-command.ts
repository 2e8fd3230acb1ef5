import type { Command } from 'commander';
import { findTopology, loadConfig } from '../config/load';
import { secretFromEnv, secretsOf } from '../config/env';
import { DbRegistry } from '../db/connect';
import { HostExecutors } from '../hosts/executors';
import { flavourOf } from '../flavours/registry';
import { inspectTopology } from '../status/inspect';
import { EXIT_OK, UsageError } from './exit-codes';
import type { CliContext } from './context';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('probe every node of a topology and propose what to recover from, and why')
    .option('-c, --config <file>', 'topology file (default: $RECOVER_CONFIG or ./recover.yaml)')
    .option('-t, --topology <name>', 'topology to inspect (may be omitted when the file has one)')
    .option('--json', 'print one JSON object instead of the table')
    .action(async function statusAction(opts: { config?: string; topology?: string; json?: boolean }) {
      const file = opts.config ?? ctx.defaultConfigFile;
      const config = loadConfig(file);
      const topology = findTopology(config, opts.topology);
      if (!topology) {
        const names = config.topologies.map((t) => t.name).join(', ');
        throw new UsageError(
          opts.topology
            ? `${file}: no topology named "${opts.topology}" (have: ${names})`
            : `${file} has several topologies: choose one with --topology (${names})`,
        );
      }
      const registry = new DbRegistry({ env: ctx.env });
      const hosts = new HostExecutors({ secrets: secretsOf(topology, ctx.env) });
      try {
        const report = await inspectTopology(topology, {
          dbs: registry,
          hosts,
          secret: (name) => secretFromEnv(name, ctx.env),
        });
        const flavour = flavourOf(topology.flavour);
        ctx.stdout.write(
          opts.json
            ? JSON.stringify(flavour.toJson(report), null, 2) + '\n'
            : flavour.render.statusText(report),
        );
        ctx.exitCode = EXIT_OK;
      } finally {
        await ctx.closeWithin(Promise.all([registry.closeAll(), hosts.closeAll()]), 1000);
      }
    });
}

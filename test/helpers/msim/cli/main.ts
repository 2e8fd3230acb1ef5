/**
 * Entry of the msim CLI bundle. The wrappers in each host's binDir call
 * `node msim-cli.js <tool> <args...>` with MSIM_HOST_CONFIG pointing at that host's config.
 * Arguments (the CQ -password included) are never echoed.
 */
import { existsSync, rmSync } from 'node:fs';
import type { Client } from 'pg';
import { checkScope, parseArgs } from './args';
import { cleartool } from './cleartool';
import { loadHostConfig, type HostConfig } from './host-config';
import { lsEpoch } from './ls-epoch';
import { lsPacket } from './ls-packet';
import { lsReplica } from './ls-replica';
import { toolName } from './messages';
import { msimDb } from './msim-db';
import { restoreReplica } from './restore-replica';
import { pendingOrders, receive, ship } from './ship';
import { connect } from './store';
import { syncExport } from './sync-export';
import { syncImport } from './sync-import';
import * as msg from './messages';

const print = (line: string) => process.stdout.write(`${line}\n`);
const printErr = (line: string) => process.stderr.write(`${line}\n`);

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function multi(config: HostConfig, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest);
  checkScope(args, config);
  let client: Client | undefined;
  const db = async () => (client ??= await connect(config.db));
  try {
    switch (sub) {
      case 'lsreplica':
        return await lsReplica(config, await db(), args, print);
      case 'lsepoch':
        return await lsEpoch(config, await db(), args, print);
      case 'lspacket':
        return await lsPacket(config, db, args, print, printErr);
      case 'restorereplica':
        return await restoreReplica(config, await db(), args, print);
      case 'syncreplica':
        if (args.flags.export) return await syncExport(config, await db(), args, print);
        if (args.flags.import) return await syncImport(config, await db(), args, print);
        throw new Error('syncreplica needs -export or -import');
      default:
        throw new Error(`Unknown command: "${sub ?? ''}"`);
    }
  } finally {
    await client?.end().catch(() => undefined);
  }
}

async function shippingServer(config: HostConfig, argv: string[]): Promise<number> {
  if (argv[0] === '-receive' && argv[1]) {
    await receive(config, argv[1], await readStdin());
    return 0;
  }
  if (argv[0] === '-poll') {
    let failed = 0;
    for (const o of pendingOrders(config)) {
      if (!existsSync(o.packet)) {
        rmSync(o.order, { force: true }); // its packet went with an earlier delivery
        continue;
      }
      const r = await ship(config, o.packet, o.dest);
      if (r.ok) print(msg.forwarded(o.packet));
      else {
        failed++;
        print(msg.notForwarded(o.packet, o.dest, r.reason ?? 'unknown'));
      }
    }
    return failed > 0 ? 2 : 0;
  }
  throw new Error('usage: shipping_server -poll | -receive <packet-name>');
}

async function main(): Promise<number> {
  const [tool, ...argv] = process.argv.slice(2);
  const config = loadHostConfig();
  const label = tool === 'multiutil' || tool === 'multitool' ? toolName(config) : (tool ?? 'msim');
  try {
    switch (tool) {
      case 'multiutil':
      case 'multitool':
        return await multi(config, argv);
      case 'shipping_server':
        return await shippingServer(config, argv);
      case 'cleartool': {
        const [sub, ...rest] = argv;
        const client = await connect(config.db);
        try {
          return await cleartool(config, client, sub ?? '', parseArgs(rest), print);
        } finally {
          await client.end().catch(() => undefined);
        }
      }
      case 'msim-db':
        return await msimDb(config, argv[0] ?? '', argv.slice(1), print);
      default:
        throw new Error(`unknown tool ${tool ?? ''}`);
    }
  } catch (err) {
    const pgCode = (err as { code?: unknown }).code;
    if (pgCode === '42P01' || pgCode === '3D000')
      // undefined table / database: the storage is lost and not restored yet
      printErr(
        `${label}: Error: Unable to open the replica database "${config.db.database}": it is empty or missing (${(err as Error).message})`,
      );
    else printErr(`${label}: Error: ${(err as Error).message}`);
    return 1;
  }
}

void main().then((code) => (process.exitCode = code));

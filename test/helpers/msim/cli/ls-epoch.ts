import { spawn } from 'node:child_process';
import type { Client } from 'pg';
import { replicaName, type Args } from './args';
import type { HostConfig } from './host-config';
import * as msg from './messages';
import { sshArgs } from './ship';
import type { Print } from './sync-export';
import { matrix, replicas, selfRow, type Row } from './store';

function rowLines(print: Print, name: string, host: string, row: Row, suffix = ''): void {
  print(`Oplog IDs for row "${name}" (@ ${host})${suffix}:`);
  for (const [origin, n] of Object.entries(row).sort(([a], [b]) => a.localeCompare(b)))
    print(`  oid:${n} replica: ${origin}`);
}

/**
 * lsepoch [-actual] [replicas]: the epoch number matrix (sim-defined layout, modelled on the
 * ClearCase listing). -actual fetches each sibling's own row over SSH and prints the two
 * documented warnings verbatim; an unreachable sibling is an error line and the next is tried.
 */
export async function lsEpoch(config: HostConfig, client: Client, args: Args, print: Print): Promise<number> {
  const tool = msg.toolName(config);
  const self = await selfRow(client);
  const members = await replicas(client);
  const host = (n: string) => members.find((r) => r.name === n)?.host ?? 'unknown';
  const m = await matrix(client);
  const named = args.positionals.map((s) => replicaName(s, config));
  if (config.dialect === 'clearcase') print(`For VOB replica "${config.vob}":`);
  else print(`For family "${config.family}" at replica "${self.name}":`);
  if (!args.flags.actual) {
    for (const r of members)
      if (named.length === 0 || named.includes(r.name))
        rowLines(print, r.name, host(r.name), m[r.name] ?? {});
    return 0;
  }
  const own = m[self.name] ?? {};
  const targets =
    named.length > 0 ? named : members.filter((r) => !r.is_self && !r.deleted).map((r) => r.name);
  let exit = 0;
  for (const sibling of targets) {
    let actual: Row;
    try {
      actual = await fetchActualRow(config, sibling);
    } catch (err) {
      exit = 1;
      print(`${tool}: Error: Unable to contact replica "${sibling}": ${(err as Error).message}`);
      continue;
    }
    rowLines(print, sibling, host(sibling), actual, ' (actual)');
    if ((own[self.name] ?? 0) < (actual[self.name] ?? 0)) print(msg.fewerOwnEntries(self.name, sibling));
    if ((own[sibling] ?? 0) > (actual[sibling] ?? 0)) print(msg.moreEntriesThanSibling(self.name, sibling));
  }
  return exit;
}

/** A sibling's own epoch row, read on its host (`msim-db row`) over its sshd. */
function fetchActualRow(config: HostConfig, sibling: string): Promise<Row> {
  const s = config.siblings[sibling];
  if (!s) return Promise.reject(new Error('not a sibling'));
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...sshArgs(config, s), `${s.binDir}/msim-db`, 'row'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(err.trim().split('\n').pop() || `ssh exit ${code}`));
      try {
        resolve((JSON.parse(out) as { row: Row }).row);
      } catch {
        reject(new Error('unreadable answer'));
      }
    });
  });
}

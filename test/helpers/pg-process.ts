/** Processes of a test cluster node, found without process names: postmaster.pid and the ps tree. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Postmaster and its children: a hung server hangs whole, not just its listener. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString().trim().split('\n')) {
    const [p, pp] = entry.trim().split(/\s+/).map(Number);
    if (p !== undefined && pp !== undefined) children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i] as number) ?? []));
  return all;
}

export function postmasterPid(node: { dataDir: string }): number | null {
  const file = join(node.dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

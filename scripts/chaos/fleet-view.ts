import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanStep } from '../../src/runbook/types';
import type { ChaosFleet } from './chaos-fleet';
import { LOGGED_TABLES, sql } from './log-db';
import type { ToolWrappers } from './tool-wrappers';

/** What a human can read off one node with a SQL client and a shell. */

const tableName = (f: ChaosFleet, t: string) => (f.engine === 'mysql' ? `\`${t}\`` : t.toLowerCase());

export async function onNode(f: ChaosFleet, node: string, query: string): Promise<Record<string, unknown>[]> {
  return sql(f.engine, f.databaseOf(node), query);
}

export async function systemRows(f: ChaosFleet, node: string): Promise<Record<string, string>> {
  const rows = await onNode(f, node, `SELECT property, content FROM ${tableName(f, 'system')}`);
  return Object.fromEntries(rows.map((r) => [String(r.property), String(r.content)]));
}

export async function lastChangelog(
  f: ChaosFleet,
  node: string,
): Promise<{ sequenceno: string; idtag: string } | null> {
  const t = tableName(f, 'changelog');
  const [row] = await onNode(
    f,
    node,
    `SELECT sequenceno, idtag FROM ${t} WHERE sequenceno = (SELECT max(sequenceno) FROM ${t})`,
  );
  return row ? { sequenceno: String(row.sequenceno), idtag: String(row.idtag) } : null;
}

export async function changelogRows(f: ChaosFleet, node: string): Promise<string> {
  const rows = await onNode(
    f,
    node,
    `SELECT sequenceno, idtag FROM ${tableName(f, 'changelog')} ORDER BY sequenceno`,
  );
  return rows.map((r) => `${String(r.sequenceno)}:${String(r.idtag)}`).join(',');
}

async function tablesPresent(f: ChaosFleet, node: string): Promise<number> {
  const names = Object.keys(LOGGED_TABLES);
  const rows =
    f.engine === 'postgres'
      ? await onNode(
          f,
          node,
          `SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN (${names.map((n) => `'${n.toLowerCase()}'`).join(', ')})`,
        )
      : await onNode(
          f,
          node,
          `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${names.map((n) => `'${n}'`).join(', ')})`,
        );
  return Number(rows[0]?.n ?? 0);
}

/**
 * A schema's fingerprint: rows per table, the last changelog row, constraints and triggers. Two
 * equal fingerprints: the restore brought everything (data, keys, triggers), not part of it.
 */
export async function fingerprint(f: ChaosFleet, node: string): Promise<string> {
  if ((await tablesPresent(f, node)) < Object.keys(LOGGED_TABLES).length) return 'incomplete: tables missing';
  const parts: string[] = [];
  for (const t of Object.keys(LOGGED_TABLES)) {
    const [r] = await onNode(f, node, `SELECT count(*) AS n FROM ${tableName(f, t)}`);
    parts.push(`${t}=${String(r?.n)}`);
  }
  const last = await lastChangelog(f, node);
  parts.push(`last=${last?.sequenceno}/${last?.idtag}`);
  const extra =
    f.engine === 'postgres'
      ? `SELECT (SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public') AS constraints,
                (SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT g.tgisinternal) AS triggers`
      : `SELECT (SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE()) AS constraints,
                (SELECT count(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()) AS triggers`;
  const [x] = await onNode(f, node, extra);
  parts.push(`constraints=${String(x?.constraints)}`, `triggers=${String(x?.triggers)}`);
  return parts.join(' ');
}

export function keyFileContent(f: ChaosFleet, node: string): string | null {
  const file = join(
    f.servers.get(node)!.home,
    'etc',
    'keys',
    `${f.databaseOf(node)}.${f.userOf(node)}.rijndael`,
  );
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** The value an UPDATE step of the replicator rows should have left, read where the runbook reads it. */
async function expectedReplicatorValue(
  f: ChaosFleet,
  step: PlanStep,
): Promise<{ property: string; value: string } | null> {
  if (step.action.kind !== 'sql') return null;
  const property = /property='(\w+)'/.exec(step.action.sql)?.[1];
  if (!property || !/^UPDATE/i.test(step.action.sql)) return null;
  // In-sync slaves take the master's last changelog row; restored slaves their own (seed 000 step 9).
  const from = step.id.startsWith('set-restored-') ? step.node : f.master;
  const last = await lastChangelog(f, from);
  if (!last) return { property, value: '(no changelog)' };
  return { property, value: property === 'replicator_tag' ? last.idtag : last.sequenceno };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The human's look at the fleet for a step whose outcome is unknown: is its effect FULLY there?
 * Waits first until nothing is still moving on the node (a restore client still running, a
 * server start/stop still landing).
 */
export async function lookAtEffect(
  f: ChaosFleet,
  wrappers: ToolWrappers,
  step: PlanStep,
): Promise<{ present: boolean; saw: string }> {
  const a = step.action;
  const node = step.node;
  switch (a.kind) {
    case 'service': {
      await sleep(800);
      const running = await f.servers.get(node)!.isRunning();
      const want = a.operation === 'start';
      return { present: running === want, saw: `${node} service is ${running ? 'running' : 'stopped'}` };
    }
    case 'file-copy': {
      const content = keyFileContent(f, node);
      return {
        present: content === f.keyContent,
        saw:
          content === null
            ? 'no key file'
            : content === f.keyContent
              ? 'key file in place'
              : 'key file differs',
      };
    }
    case 'drop-schema': {
      const n = await tablesPresent(f, node);
      return { present: n === 0, saw: `${n} CoreMedia tables left` };
    }
    case 'dump-restore': {
      for (let i = 0; i < 300 && wrappers.restoring(f.databaseOf(node)); i++) await sleep(100);
      const [mine, theirs] = [await fingerprint(f, node), await fingerprint(f, f.dedicated)];
      return { present: mine === theirs, saw: `${node}: ${mine}; ${f.dedicated}: ${theirs}` };
    }
    case 'sql': {
      const expected = await expectedReplicatorValue(f, step);
      if (!expected) return { present: false, saw: 'not an UPDATE of a replicator row: run it again' };
      const actual = (await systemRows(f, node))[expected.property];
      return {
        present: actual === expected.value,
        saw: `${node} ${expected.property}=${actual} (expected ${expected.value})`,
      };
    }
    default:
      return { present: false, saw: `cannot tell for ${(a as { kind: string }).kind}` };
  }
}

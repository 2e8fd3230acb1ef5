/**
 * bench:restore — does the runbook's dump→restore step cost more than the tools themselves?
 * Per engine, a 2-node fleet (source "mls", target "rls-1") whose source is grown to
 * RECOVER_BENCH_RESTORE_MB (default 1024) of `payload` rows, then, each run after
 * dropAndRecreateSchema(target):
 *  (a) runbook:    dumpRestore(source, target) — the bot's own stream (real code path);
 *  (b) handPiped:  the same argv and env joined by a shell pipe (`set -o pipefail`), in the same run;
 *  (c) file:       the seeds' manual way — dump to a temp file, then restore from it.
 * (a) and (b) run a,b,b,a and the median of each is compared; (c) runs once. After every run the
 * target's payload row count must equal the source's. Target: runbookMs / handPipedMs ≤ 1.05.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DbEngine, SqlNode } from '../src/config/topology';
import { openDb } from '../src/db/connect';
import type { Db } from '../src/db/types';
import type { Fleet } from '../src/flavours/coremedia/fleet/fleet';
import { buildDumpRestore, type ToolCommand } from '../src/restore/commands';
import { dumpRestore } from '../src/restore/dump-restore';
import { dropAndRecreateSchema } from '../src/restore/schema';
import { masterNode, slaveNode, testFleet } from '../test/helpers/scenarios';

const ENGINES: DbEngine[] = ['postgres', 'mysql'];
const TARGET_MB = Number(process.env.RECOVER_BENCH_RESTORE_MB ?? 1024);
/** body = N × md5 (32 chars): 1 KiB keeps PostgreSQL rows below the TOAST threshold (no pglz shrinking them). */
const MD5_REPEATS = 32;
/** Rows per INSERT … SELECT while filling; ~64 MB each. */
const CHUNK_ROWS = 60_000;
const RUN_TIMEOUT_MS = 30 * 60_000;
/** Fill, count and drop statements on 1 GB outlast the nodes' default 10 s statement limit. */
const LONG_STATEMENT_MS = 20 * 60_000;
const TARGET_RATIO = 1.05;
const MB = 1024 * 1024;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;
const log = (msg: string) => process.stderr.write(`[bench:restore] ${msg}\n`);

/** A node whose pool allows long statements (the bench's own fill / count / drop). */
function longNode(node: SqlNode): SqlNode {
  const n = structuredClone(node);
  n.db.statementTimeoutMs = LONG_STATEMENT_MS;
  return n;
}

async function payloadSizeBytes(db: Db): Promise<number> {
  if (db.engine === 'postgres') {
    const { rows } = await db.query(`SELECT pg_total_relation_size('payload')::bigint AS b`);
    return Number(rows[0]!.b);
  }
  await db.query('ANALYZE TABLE payload'); // data_length is InnoDB's estimate; refresh it
  const { rows } = await db.query(
    `SELECT data_length + index_length AS b FROM information_schema.tables
      WHERE table_schema = DATABASE() AND table_name = 'payload'`,
  );
  return Number(rows[0]!.b);
}

async function countPayload(db: Db): Promise<number> {
  const { rows } = await db.query('SELECT COUNT(*) AS n FROM payload');
  return Number(rows[0]!.n);
}

async function insertRows(db: Db, from: number, to: number): Promise<void> {
  const sql =
    db.engine === 'postgres'
      ? `INSERT INTO payload SELECT g, repeat(md5(g::text), ${MD5_REPEATS}) FROM generate_series(${from}, ${to}) g`
      : `INSERT INTO payload SELECT seq, REPEAT(MD5(seq), ${MD5_REPEATS}) FROM seq_${from}_to_${to}`;
  await db.query(sql);
}

/** Grows the source's payload table to about `targetMb`: a first chunk measures bytes per row. */
async function fillSource(db: Db, targetMb: number): Promise<{ rows: number; bytes: number }> {
  await db.query('CREATE TABLE payload (id BIGINT PRIMARY KEY, body TEXT)');
  const targetBytes = targetMb * MB;
  const first = Math.max(1000, Math.min(CHUNK_ROWS, Math.round(targetBytes / 1200)));
  await insertRows(db, 1, first);
  let rows = first;
  let bytes = await payloadSizeBytes(db);
  const wanted = Math.max(first, Math.round((targetBytes / bytes) * first));
  while (rows < wanted) {
    const to = Math.min(wanted, rows + CHUNK_ROWS);
    await insertRows(db, rows + 1, to);
    rows = to;
  }
  bytes = await payloadSizeBytes(db);
  return { rows, bytes };
}

interface ToolRun {
  ms: number;
}

/** Runs a child to completion; non-zero exit throws with the stderr tail. */
function runChild(
  file: string,
  args: string[],
  env: Record<string, string>,
  stdio: { stdin?: number; stdout?: number } = {},
  label = file,
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(file, args, {
      env,
      stdio: [stdio.stdin ?? 'ignore', stdio.stdout ?? 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2000);
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), RUN_TIMEOUT_MS);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms });
      else reject(new Error(`${label} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** One side of the shell pipe with exactly the env commands.ts gives it (env -i: nothing inherited). */
const shellSide = (c: ToolCommand) =>
  ['env', '-i', ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), ...c.argv].map(shq).join(' ');

interface EngineResult {
  engine: DbEngine;
  sizeMB: number;
  rows: number;
  bytesStreamed: number;
  runbookMs: number;
  handPipedMs: number;
  ratio: number;
  fileDumpMs: number;
  fileRestoreMs: number;
  fileTotalMs: number;
  ratioVsFile: number;
  dumpFileBytes: number;
  runbookRunsMs: number[];
  handPipedRunsMs: number[];
  targetRatio: number;
  meetsTarget: boolean;
}

/** Everything to undo if the process is interrupted mid-run. */
const live = { fleets: new Set<Fleet>(), tmpDirs: new Set<string>() };

async function cleanup(): Promise<void> {
  for (const dir of live.tmpDirs) rmSync(dir, { recursive: true, force: true });
  live.tmpDirs.clear();
  for (const fleet of live.fleets) {
    await fleet.destroy().catch((err) => log(`destroy ${fleet.prefix} failed: ${String(err)}`));
    live.fleets.delete(fleet);
  }
}

async function benchEngine(engine: DbEngine): Promise<EngineResult> {
  const tag = `bench_restore_${engine === 'postgres' ? 'pg' : 'my'}`;
  const fleet = await testFleet(tag, [masterNode(engine), slaveNode('rls-1', engine, 1050)]);
  live.fleets.add(fleet);
  const tmp = mkdtempSync(join(tmpdir(), 'recover-bench-restore-'));
  live.tmpDirs.add(tmp);
  const nodes = fleet.config.topologies[0]!.nodes;
  const source = nodes.find((n) => n.name === 'mls')!;
  const target = nodes.find((n) => n.name === 'rls-1')!;
  const env: NodeJS.ProcessEnv = { ...process.env, ...fleet.env };
  const src = openDb(longNode(source), { env });
  const tgt = openDb(longNode(target), { env });
  try {
    log(`${engine}: filling ${source.db.database} to ~${TARGET_MB} MB`);
    const fillStart = performance.now();
    const filled = await fillSource(src, TARGET_MB);
    const sourceRows = await countPayload(src);
    log(
      `${engine}: ${sourceRows} rows, ${round(filled.bytes / MB)} MB in ${round((performance.now() - fillStart) / 1000)} s`,
    );

    const cmds = buildDumpRestore(source, target, env);
    const verify = async (method: string) => {
      const n = await countPayload(tgt);
      if (n !== sourceRows)
        throw new Error(`${engine} ${method}: target has ${n} payload rows, source has ${sourceRows}`);
    };
    const fresh = () => dropAndRecreateSchema(target, tgt);

    const runbook = async () => {
      await fresh();
      const r = await dumpRestore(source, target, { env, timeoutMs: RUN_TIMEOUT_MS });
      if (!r.ok) throw new Error(`${engine} runbook dumpRestore failed: ${r.error}`);
      await verify('runbook');
      return { ms: r.durationMs, bytes: r.bytes };
    };
    const handPiped = async () => {
      await fresh();
      const script = `set -o pipefail; ${shellSide(cmds.dump)} | ${shellSide(cmds.restore)}`;
      const { ms } = await runChild('/bin/bash', ['-c', script], cmds.dump.env, {}, 'hand-piped bash');
      await verify('handPiped');
      return ms;
    };

    const runbookRuns: number[] = [];
    const pipedRuns: number[] = [];
    let bytesStreamed = 0;
    for (const method of ['a', 'b', 'b', 'a'] as const) {
      if (method === 'a') {
        const r = await runbook();
        runbookRuns.push(r.ms);
        bytesStreamed = r.bytes;
        log(`${engine}: runbook ${round(r.ms)} ms (${r.bytes} bytes)`);
      } else {
        const ms = await handPiped();
        pipedRuns.push(ms);
        log(`${engine}: hand-piped ${round(ms)} ms`);
      }
    }

    // (c) the seeds' way: dump to a file, restore from it.
    await fresh();
    const file = join(tmp, engine === 'postgres' ? 'dump.pgcustom' : 'dump.sql');
    const [dumpFile, ...dumpArgs] = cmds.dump.argv as [string, ...string[]];
    const [restoreFile, ...restoreArgs] = cmds.restore.argv as [string, ...string[]];
    let fileDumpMs: number;
    let fileRestoreMs: number;
    let dumpFileBytes: number;
    try {
      const out = openSync(file, 'w');
      try {
        fileDumpMs = (await runChild(dumpFile, dumpArgs, cmds.dump.env, { stdout: out }, cmds.dump.tool)).ms;
      } finally {
        closeSync(out);
      }
      dumpFileBytes = statSync(file).size;
      if (engine === 'postgres') {
        fileRestoreMs = (
          await runChild(restoreFile, [...restoreArgs, file], cmds.restore.env, {}, cmds.restore.tool)
        ).ms;
      } else {
        const inp = openSync(file, 'r');
        try {
          fileRestoreMs = (
            await runChild(restoreFile, restoreArgs, cmds.restore.env, { stdin: inp }, cmds.restore.tool)
          ).ms;
        } finally {
          closeSync(inp);
        }
      }
    } finally {
      rmSync(file, { force: true });
    }
    await verify('file');
    log(`${engine}: file dump ${round(fileDumpMs)} ms + restore ${round(fileRestoreMs)} ms`);

    const runbookMs = median(runbookRuns);
    const handPipedMs = median(pipedRuns);
    const fileTotalMs = fileDumpMs + fileRestoreMs;
    const ratio = Math.round((runbookMs / handPipedMs) * 1000) / 1000;
    return {
      engine,
      sizeMB: round(filled.bytes / MB),
      rows: sourceRows,
      bytesStreamed,
      runbookMs: round(runbookMs),
      handPipedMs: round(handPipedMs),
      ratio,
      fileDumpMs: round(fileDumpMs),
      fileRestoreMs: round(fileRestoreMs),
      fileTotalMs: round(fileTotalMs),
      ratioVsFile: Math.round((runbookMs / fileTotalMs) * 1000) / 1000,
      dumpFileBytes,
      runbookRunsMs: runbookRuns.map(round),
      handPipedRunsMs: pipedRuns.map(round),
      targetRatio: TARGET_RATIO,
      meetsTarget: ratio <= TARGET_RATIO,
    };
  } finally {
    await Promise.allSettled([src.close(), tgt.close()]);
    rmSync(tmp, { recursive: true, force: true });
    live.tmpDirs.delete(tmp);
    await fleet.destroy();
    live.fleets.delete(fleet);
  }
}

async function main() {
  if (!Number.isFinite(TARGET_MB) || TARGET_MB <= 0)
    throw new Error(
      `RECOVER_BENCH_RESTORE_MB must be a positive number, got ${process.env.RECOVER_BENCH_RESTORE_MB}`,
    );
  const started = performance.now();
  const results: EngineResult[] = [];
  try {
    for (const engine of ENGINES) results.push(await benchEngine(engine));
  } finally {
    await cleanup();
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'restore',
        node: process.version,
        requestedMB: TARGET_MB,
        results,
        targetRatio: TARGET_RATIO,
        wallS: round((performance.now() - started) / 1000),
        pass: results.every((r) => r.meetsTarget),
      },
      null,
      2,
    ),
  );
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().catch(async (err) => {
  console.error(err);
  await cleanup();
  process.exit(1);
});

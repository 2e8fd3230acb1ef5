/**
 * The chaos suite of issue 11: "the engine must move every run to an end, whatever is killed when".
 *   npm run chaos -- [--runs N] [--seed S] [--max-seconds T] [--parallel P] [--stuck-seconds S]
 * Prints one JSON object; exit 0 only when every run ended done with no violation. See README
 * "Chaos suite".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { serviceUrls } from '../src/config/env';
import type { DbEngine } from '../src/config/topology';
import { cleanupAll, cleanupOnSignals, onCleanup } from './chaos/cleanup';
import { createLogDb, dropLogDb } from './chaos/log-db';
import { createRng } from './chaos/prng';
import { runOne, SCENARIOS, type RunReport, type RunSpec, type SuiteContext } from './chaos/run-one';
import { createToolWrappers } from './chaos/tool-wrappers';

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};

interface Options {
  runs: number;
  seed: number;
  maxSeconds: number;
  parallel: number;
  stuckSeconds: number;
  engines: string;
  calm: boolean;
}

function parse(argv: string[]): Options {
  return new Command('chaos')
    .option('--runs <n>', 'master-from-slave runs, alternating PostgreSQL and MariaDB', int(1), 30)
    .option('--seed <n>', 'PRNG seed (default: random, printed)', int(0), Math.floor(Math.random() * 2 ** 31))
    .option(
      '--max-seconds <n>',
      'stop starting runs, and give up on running ones, after this long',
      int(10),
      1200,
    )
    .option('--parallel <n>', 'runs at once (each on its own fleet and Redis prefix)', int(1), 3)
    .option(
      '--stuck-seconds <n>',
      'a run with no visible change for this long is stuck (aborted, a violation)',
      int(5),
      30,
    )
    .option('--engines <list>', 'postgres,mysql or one of them', 'postgres,mysql')
    .option(
      '--calm',
      'control: kill and restart nothing (the harness itself must then find no violation)',
      false,
    )
    .parse(argv)
    .opts<Options>();
}

const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  const o = parse(process.argv);
  const engines = o.engines.split(',').map((e) => e.trim()) as DbEngine[];
  if (engines.some((e) => e !== 'postgres' && e !== 'mysql'))
    throw new InvalidArgumentError('--engines: postgres, mysql');
  log(`seed ${o.seed}: ${o.runs} runs, ${o.parallel} at once, at most ${o.maxSeconds} s`);
  const started = Date.now();
  cleanupOnSignals(log);
  const tmp = mkdtempSync(join(tmpdir(), 'recover-chaos-'));
  onCleanup(`temp dir ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
  const logDbs = { postgres: `rf_chaos_${process.pid}_log`, mysql: `rf_chaos_${process.pid}_log` };
  for (const e of engines) {
    onCleanup(`log database ${logDbs[e]} (${e})`, () => dropLogDb(e, logDbs[e]));
    await createLogDb(e, logDbs[e]);
  }
  const ctx: SuiteContext = {
    tmp,
    pid: process.pid,
    redisUrl: serviceUrls().redisUrl,
    logDbs,
    wrappers: createToolWrappers(join(tmp, 'tool-wrappers')),
    stuckMs: o.stuckSeconds * 1000,
    deadline: started + o.maxSeconds * 1000,
    log,
  };
  const rng = createRng(o.seed);
  const specs: RunSpec[] = Array.from({ length: o.runs }, (_, index) => ({
    index,
    engine: engines[index % engines.length]!,
    scenario: SCENARIOS[Math.floor(index / engines.length) % SCENARIOS.length]!,
    rng: rng.fork(),
    calm: o.calm,
  }));

  const reports: RunReport[] = [];
  const skipped: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: o.parallel }, async () => {
      while (next < specs.length) {
        const spec = specs[next++]!;
        // A run needs its time: one started at the last moment would only be given up at once.
        if (Date.now() > ctx.deadline - ctx.stuckMs) {
          skipped.push(spec.index);
          continue;
        }
        const r = await runOne(spec, ctx);
        reports.push(r);
        log(
          `run ${r.index} ${r.engine} ${r.scenario}: ${r.state}, ${r.kills} kills, ${r.halts} halts, ${r.violations.length} violations, ${Math.round(r.durationMs / 1000)} s`,
        );
        for (const v of r.violations) log(`  ✗ ${v}`);
      }
    }),
  );
  const cleanupFailures = await cleanupAll();
  reports.sort((a, b) => a.index - b.index);

  const violations = [
    ...reports.flatMap((r) =>
      r.violations.map((v) => ({
        run: r.index,
        runId: r.runId,
        engine: r.engine,
        scenario: r.scenario,
        violation: v,
      })),
    ),
    ...(skipped.length
      ? [
          {
            run: null,
            violation: `--max-seconds ${o.maxSeconds} exceeded: runs ${skipped.join(', ')} never started`,
          },
        ]
      : []),
    ...cleanupFailures.map((c) => ({ run: null, violation: `cleanup failed: ${c}` })),
  ];
  const perEngine = Object.fromEntries(
    engines.map((e) => {
      const mine = reports.filter((r) => r.engine === e);
      return [
        e,
        {
          runs: mine.length,
          runsDone: mine.filter((r) => r.state === 'done').length,
          kills: mine.reduce((n, r) => n + r.kills + r.engineKills, 0),
          halts: mine.reduce((n, r) => n + r.halts, 0),
          decisions: mine.reduce((n, r) => n + r.decisions.length, 0),
          violations: mine.reduce((n, r) => n + r.violations.length, 0),
          byScenario: Object.fromEntries(
            SCENARIOS.map((s) => [
              s,
              `${mine.filter((r) => r.scenario === s && r.state === 'done').length}/${mine.filter((r) => r.scenario === s).length} done`,
            ]),
          ),
        },
      ];
    }),
  );
  const summary = {
    seed: o.seed,
    runs: o.runs,
    runsDone: reports.filter((r) => r.state === 'done').length,
    kills: reports.reduce((n, r) => n + r.kills + r.engineKills, 0),
    workerKills: reports.reduce((n, r) => n + r.kills, 0),
    engineProcessKills: reports.reduce((n, r) => n + r.engineKills, 0),
    redisRestarts: reports.reduce((n, r) => n + r.redisRestarts, 0),
    halts: reports.reduce((n, r) => n + r.halts, 0),
    violations,
    durationMs: Date.now() - started,
    perEngine,
    stuckRuns: reports.flatMap((r) =>
      r.stuck ? [{ run: r.index, runId: r.runId, engine: r.engine, scenario: r.scenario, ...r.stuck }] : [],
    ),
    runsDetail: reports.map((r) => ({
      run: r.index,
      runId: r.runId,
      engine: r.engine,
      scenario: r.scenario,
      state: r.state,
      kills: r.kills + r.engineKills,
      halts: r.halts,
      effects: r.effects,
      refusals: r.refusals,
      decisions: r.decisions.map((d) => `${d.choice} ${d.stepId}`),
    })),
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return violations.length === 0 && summary.runsDone === o.runs ? 0 : 1;
}

process.on('unhandledRejection', (err) => {
  log(`unhandled: ${(err as Error)?.stack ?? String(err)}`);
  void cleanupAll().then(() => process.exit(2));
});

main().then(
  (code) => process.exit(code),
  async (err: Error) => {
    log(`chaos suite failed: ${err.stack ?? err.message}`);
    for (const f of await cleanupAll()) log(`cleanup failed: ${f}`);
    process.exit(2);
  },
);

/**
 * bench:status — is `status` bounded by the probe timeout, whatever the fleet size?
 * For 5, 50 and 200 slaves (mixed engines, 2 black-holed), compares the wall time of a whole
 * status against the probe timeout and against the slowest single healthy probe measured alone
 * in the same run. Target: wall ≤ timeout + 300 ms at 200 slaves (no node waits for another).
 */
import { performance } from 'node:perf_hooks';
import type { Topology } from '../src/config/topology';
import { DbRegistry } from '../src/db/connect';
import { createFleet, type Fleet } from '../src/flavours/coremedia/fleet/fleet';
import { Scenario, type ScenarioInput } from '../src/flavours/coremedia/fleet/scenario';
import { probeCoremediaNode } from '../src/flavours/coremedia/probe';
import { inspectTopology } from '../src/status/inspect';
import { startBlackhole } from '../test/helpers/blackhole';

const SIZES = [5, 50, 200];
const PROBE_TIMEOUT_MS = 2000;
const REPEATS = 3;
const BLACKHOLED = 2;

function scenario(slaves: number): Scenario {
  const nodes: ScenarioInput['nodes'] = [
    { name: 'mls', engine: 'postgres', changelog: { last: 1050, count: 20 } },
  ];
  for (let i = 1; i <= slaves; i++) {
    const remote = i % 7 === 0 ? 1030 : 1042; // a realistic minority behind
    nodes.push({
      name: `rls-${i}`,
      engine: i % 5 < 2 ? 'postgres' : 'mysql', // 40% PostgreSQL keeps us under its 100 connections
      replicator: { remote },
      replicatorIdRows: i % 11 === 0 ? 2 : 0,
      changelog: { last: remote, count: 20 },
    });
  }
  return Scenario.parse({ name: `bench-${slaves}`, master: 'mls', probeTimeoutMs: PROBE_TIMEOUT_MS, nodes });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

async function measure(fleet: Fleet, blackholePort: number) {
  const topology: Topology = structuredClone(fleet.config.topologies[0]!);
  const blackholed = topology.nodes.filter((n) => n.name !== topology.master).slice(-BLACKHOLED);
  for (const n of blackholed) n.db!.port = blackholePort;
  const healthy = topology.nodes.filter((n) => !blackholed.includes(n));

  // Baseline: every healthy node probed alone, one after another; the slowest of them.
  const single: number[] = [];
  const baseline = new DbRegistry();
  for (const n of healthy) {
    const started = performance.now();
    await probeCoremediaNode(
      baseline.get(n, topology.name),
      n.name === topology.master ? 'master' : 'slave',
      PROBE_TIMEOUT_MS,
    );
    single.push(performance.now() - started);
  }
  await baseline.closeAll();

  const walls: number[] = [];
  let unknown = 0;
  for (let r = 0; r < REPEATS; r++) {
    const registry = new DbRegistry();
    const started = performance.now();
    const report = await inspectTopology(topology, registry);
    walls.push(performance.now() - started);
    unknown = report.unknown.length;
    await registry.closeAll();
  }
  const wall = median(walls);
  return {
    slaves: topology.nodes.length - 1,
    blackholed: BLACKHOLED,
    unknownReported: unknown,
    probeTimeoutMs: PROBE_TIMEOUT_MS,
    statusWallMs: round(wall),
    statusWallRunsMs: walls.map(round),
    slowestSingleHealthyProbeMs: round(Math.max(...single)),
    wallOverTimeout: round((wall / PROBE_TIMEOUT_MS) * 1000) / 1000,
    wallMinusTimeoutMs: round(wall - PROBE_TIMEOUT_MS),
    targetMs: PROBE_TIMEOUT_MS + 300,
    meetsTarget: wall <= PROBE_TIMEOUT_MS + 300,
  };
}

async function main() {
  const blackhole = await startBlackhole();
  const results = [];
  try {
    for (const size of SIZES) {
      const fleet = await createFleet(scenario(size), { prefix: `bench_${size}` });
      try {
        results.push(await measure(fleet, blackhole.port));
      } finally {
        await fleet.destroy();
      }
    }
  } finally {
    await blackhole.close();
  }
  const at200 = results.find((r) => r.slaves === 200);
  console.log(
    JSON.stringify(
      { benchmark: 'status', node: process.version, results, pass: at200?.meetsTarget ?? false },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { createFleet, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { Scenario, type ScenarioInput } from '../../src/flavours/coremedia/fleet/scenario';

type Engine = 'postgres' | 'mysql';
type NodeInput = ScenarioInput['nodes'][number];

/** The master "mls" with changelog rows up to `last`. */
export const masterNode = (engine: Engine, last = 1050): NodeInput => ({
  name: 'mls',
  engine,
  changelog: { last, count: 5 },
});

/** A slave at sequence `remote` (changelog up to the same number), `rows` rows in ReplicatorIdTable. */
export const slaveNode = (name: string, engine: Engine, remote: number, rows = 0): NodeInput => ({
  name,
  engine,
  replicator: { remote },
  replicatorIdRows: rows,
  changelog: { last: remote, count: 5 },
});

/** A CoreMedia fleet with master "mls", in databases unique to this test process. */
export function testFleet(name: string, nodes: NodeInput[], tag = name): Promise<Fleet> {
  return createFleet(Scenario.parse({ name, master: 'mls', nodes }), {
    prefix: `${tag.replace(/-/g, '_')}${process.pid}`,
  });
}

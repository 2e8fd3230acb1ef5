import { basename } from 'node:path';
import { createFleet, type Fleet } from '../../src/flavours/coremedia/fleet/fleet';
import { Scenario, type ScenarioInput } from '../../src/flavours/coremedia/fleet/scenario';

let counter = 0;

/**
 * A prefix unique to this test file and process (jest runs files in parallel workers), short
 * enough that rf_<prefix>_<node> stays a valid database and MariaDB user name.
 */
export function uniquePrefix(testFile: string): string {
  const base = basename(testFile)
    .replace(/\.test\.ts$|\.ts$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 6);
  const random = Math.random().toString(36).slice(2, 5);
  return `t_${base}_${process.pid % 100000}${random}${counter++}`;
}

/**
 * Declares a fleet for the enclosing describe/file: created in beforeAll, destroyed in afterAll.
 * Call at the top level of a test file or describe block; use the returned getter inside tests.
 */
export function useFleet(testFile: string, scenario: ScenarioInput): () => Fleet {
  let fleet: Fleet | undefined;
  beforeAll(async () => {
    fleet = await createFleet(Scenario.parse(scenario), { prefix: uniquePrefix(testFile) });
  });
  afterAll(async () => {
    await fleet?.destroy();
  });
  return () => {
    if (!fleet) throw new Error('fleet not created yet: use it inside a test, not at describe time');
    return fleet;
  };
}

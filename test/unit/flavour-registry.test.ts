import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FlavourName } from '../../src/config/topology';
import { FLAVOURS, flavourOf, UnsupportedFlavourError } from '../../src/flavours/registry';
import { RUNBOOKS } from '../../src/runbook/registry';
import { validateRunbook } from '../../src/runbook/resolve';

const FLAVOURS_DIR = join(__dirname, '../../src/flavours');

describe('flavour registry', () => {
  it('has exactly one entry per folder under src/flavours', () => {
    const folders = readdirSync(FLAVOURS_DIR)
      .filter((name) => statSync(join(FLAVOURS_DIR, name)).isDirectory())
      .sort();
    expect(Object.keys(FLAVOURS).sort()).toEqual(folders);
  });

  it('registers each flavour under its own name, and only names the topology schema accepts', () => {
    for (const [name, flavour] of Object.entries(FLAVOURS)) {
      expect(flavour?.name).toBe(name);
      expect(FlavourName.options).toContain(name);
    }
  });

  it("each flavour's runbooks are its own, well formed, and target only its node sets", () => {
    for (const flavour of Object.values(FLAVOURS)) {
      for (const runbook of flavour!.runbooks) {
        expect(runbook.flavour).toBe(flavour!.name);
        expect(validateRunbook(runbook, flavour!.nodeSets)).toEqual([]);
        expect(RUNBOOKS[runbook.name]).toBe(runbook);
      }
    }
  });

  it('refuses a flavour it does not know, naming the ones it does', () => {
    expect(() => flavourOf('oracle-dataguard')).toThrow(UnsupportedFlavourError);
    expect(() => flavourOf('constructor')).toThrow(/not supported yet \(supported: .*coremedia/);
  });
});

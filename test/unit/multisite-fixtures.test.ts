import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLsepoch } from '../../src/flavours/multisite/parse-lsepoch';
import { parseLspacket } from '../../src/flavours/multisite/parse-lspacket';
import { parseLsreplica } from '../../src/flavours/multisite/parse-lsreplica';
import { parseSyncExport, parseSyncImport } from '../../src/flavours/multisite/parse-syncreplica';

/** The parsers against the simulator's recorded restoration transcripts (test/fixtures/multisite, both dialects). */
const output = (name: string): string =>
  readFileSync(join(__dirname, '../fixtures/multisite', `${name}.txt`), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('$ ') && !/^\[exit \d+\]$/.test(l))
    .join('\n');

describe.each(['clearquest', 'clearcase'] as const)('%s transcript', (dialect) => {
  const n = (cq: string, cc: string) => `${dialect}-${dialect === 'clearquest' ? cq : cc}`;

  it('lsreplica -long while restoring: locked, restoring, awaiting both siblings, who owes', () => {
    const [boston, paris, tokyo] = parseLsreplica(
      output(n('05-lsreplica-long-restoring', '06-lsreplica-long-restoring')),
    );
    expect(boston).toMatchObject({
      name: 'boston',
      current: true,
      locked: true,
      restoring: true,
      awaiting: ['paris', 'tokyo'],
      incarnation: 2,
    });
    expect(paris).toMatchObject({ name: 'paris', current: false, owes: ['boston'] });
    expect(tokyo).toMatchObject({ name: 'tokyo', owes: ['boston'] });
    const clean = parseLsreplica(output(n('17-lsreplica-long-clean', '21-lsreplica-long-clean')));
    expect(clean[0]).toMatchObject({
      name: 'boston',
      current: true,
      locked: false,
      restoring: false,
      awaiting: [],
    });
  });

  it('lsepoch -actual after the restore: the documented warning is the evidence', () => {
    const { matrix, warnings } = parseLsepoch(
      output(n('03-lsepoch-actual-after-restore', '03-lsepoch-actual-after-restore')),
    );
    expect(warnings).toContainEqual({ kind: 'fewer-own', replica: 'boston', other: 'paris' });
    expect(matrix.paris?.boston).toBeGreaterThan(0);
    expect(parseLsepoch(output(n('16-lsepoch-actual-clean', '20-lsepoch-actual-clean'))).warnings).toEqual(
      [],
    );
  });

  it("lspacket -long at a sibling: R's restoration packet, importable there", () => {
    const [p] = parseLspacket(output(n('08-lspacket-long-at-sibling', '09-lspacket-long-at-sibling')));
    expect(p).toMatchObject({
      from: 'boston',
      recipients: ['paris'],
      importable: ['paris'],
      restorationRequest: true,
      incarnation: 2,
      bay: 'incoming',
    });
    expect(parseLspacket(output(n('06-lspacket-siblings-empty', '07-lspacket-siblings-empty')))).toEqual([]);
  });

  it('export -fship to the siblings, and the last import', () => {
    const e = parseSyncExport(output(n('07-export-fship-siblings', '08-export-fship-siblings')));
    expect(e.packets).toHaveLength(2);
    expect(e.shippingOrders).toHaveLength(2);
    expect(e.delivered).toEqual(e.packets);
    const last = parseSyncImport(output(n('15-import-last-ack', '16-import-last-ack')));
    // ClearQuest unlocks itself on the last ack; ClearCase leaves the VOB locked for cleartool.
    expect(last.unlockedDatabase).toBe(dialect === 'clearquest' ? 'SAMPL' : null);
  });
});

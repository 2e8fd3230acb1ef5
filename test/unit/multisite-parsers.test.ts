import { epochOf, parseLsepoch } from '../../src/flavours/multisite/parse-lsepoch';
import { packetsFrom, parseLspacket } from '../../src/flavours/multisite/parse-lspacket';
import { parseLsreplica } from '../../src/flavours/multisite/parse-lsreplica';
import { parseSyncExport, parseSyncImport } from '../../src/flavours/multisite/parse-syncreplica';
import { parseManifest } from '../../src/flavours/multisite/probe';

describe('lsepoch', () => {
  it('reads each row of the matrix (ClearCase form: oid=N (replica))', () => {
    const text = [
      'For VOB replica "/vobs/dev":',
      'Oplog IDs for row "boston_hub" (@ goldengate):',
      '  oid:834ff0c0.f6d111d2.ba41.00:01:80:7b:ad:64=1300 (boston_hub)',
      '  oid:81d7f42a.f6d111d2.ba4c.00:01:80:7b:ad:64=1250 (sydney)',
      'Oplog IDs for row "sydney" (@ goldengate):',
      '  oid:834ff0c0.f6d111d2.ba41.00:01:80:7b:ad:64=1290 (boston_hub)',
      '  oid:81d7f42a.f6d111d2.ba4c.00:01:80:7b:ad:64=1250 (sydney)',
    ].join('\n');
    const { matrix, warnings } = parseLsepoch(text);
    expect(matrix).toEqual({
      boston_hub: { boston_hub: 1300, sydney: 1250 },
      sydney: { boston_hub: 1290, sydney: 1250 },
    });
    expect(warnings).toEqual([]);
    expect(epochOf(matrix, 'sydney', 'boston_hub')).toBe(1290);
    expect(epochOf(matrix, 'sydney', 'tokyo')).toBeNull();
  });

  it('reads the simulator form, -actual rows included (oid:N replica: origin)', () => {
    const text = [
      'For family "SAMPL" at replica "a":',
      'Oplog IDs for row "b" (@ 127.0.0.1:2202) (actual):',
      '  oid:7 replica: a',
      '  oid:3 replica: b',
      'Your replica ("a") has fewer oplog entries for itself than "b" has for your replica.',
      'To avoid permanent data loss, your VOB administrator must initiate the documented replica restoration procedure.',
    ].join('\n');
    expect(parseLsepoch(text)).toEqual({
      matrix: { b: { a: 7, b: 3 } },
      warnings: [{ kind: 'fewer-own', replica: 'a', other: 'b' }],
    });
  });

  it('finds both -actual warnings, verbatim from the docs (SYSTEMS.md §1.2)', () => {
    const text = [
      'Your replica ("a") has fewer oplog entries for itself than "b" has for your replica. To avoid permanent data loss, your VOB administrator must initiate the documented replica restoration procedure.',
      'The replica "a" has more oplog entries for "c" than "c" has for itself. To avoid permanent data loss, your VOB administrator must initiate the documented replica restoration procedure.',
    ].join('\n');
    expect(parseLsepoch(text).warnings).toEqual([
      { kind: 'fewer-own', replica: 'a', other: 'b' },
      { kind: 'more-for-other', replica: 'a', other: 'c' },
    ]);
  });
});

describe('lspacket', () => {
  it("reads the ClearQuest form (Multiutil: Packet `path' … From: NAME (GUID))", () => {
    const text = [
      "Multiutil: Packet `/bays/b/incoming/sync_b_01-Dec-26.10.00.00_4242_1' ...",
      '  Type: UPDATE',
      '  Sent: 01-Dec-26.10.00.00',
      '  From: a (9c1f-33aa)',
      '  Clan: clan1',
      '  Recipients: b*',
      '  Family: fam',
      "Multiutil: Packet `/bays/b/outgoing/sync_c_01-Dec-26.10.00.01_4242_2' ...",
      '  Type: UPDATE',
      '  From: b (77)',
      '  Recipients: c',
      '  Family: fam',
    ].join('\n');
    const packets = parseLspacket(text);
    expect(packets).toHaveLength(2);
    expect(packets[0]).toMatchObject({
      path: '/bays/b/incoming/sync_b_01-Dec-26.10.00.00_4242_1',
      type: 'UPDATE',
      from: 'a',
      fromGuid: '9c1f-33aa',
      recipients: ['b'],
      importable: ['b'],
      family: 'fam',
      bay: 'incoming',
    });
    expect(packets[1]).toMatchObject({ from: 'b', recipients: ['c'], importable: [], bay: 'outgoing' });
    expect(packetsFrom(packets, 'a')).toHaveLength(1);
  });

  it('reads the ClearCase form (Packet is: path, recipients below, * = importable now)', () => {
    const text = [
      'Packet is: /var/shipping/ms_ship/incoming/sync_boston_hub_13-Jun-99.13.01.55_1256_1',
      '  Packet type: Update',
      '  Packet fragment: 1 of 1',
      '  Packet should be applied to the following replicas:',
      '    sydney*',
      '    tokyo',
      '  Packet sent from replica: boston_hub',
    ].join('\n');
    const [p] = parseLspacket(text);
    expect(p).toMatchObject({
      type: 'Update',
      from: 'boston_hub',
      recipients: ['sydney', 'tokyo'],
      importable: ['sydney'],
      bay: 'incoming',
    });
  });

  it('an empty bay is no packets', () => {
    expect(parseLspacket('')).toEqual([]);
  });
});

describe('lsreplica -long', () => {
  it('lists the family; the own block says locked, restoring and whom it still awaits (simulator text)', () => {
    const text = [
      'For family "SAMPL" at replica "a":',
      'replica "a"',
      '  guid: 1f',
      '  host: "127.0.0.1:2201"',
      '  current replica: yes',
      '  locked: yes',
      '  restoring: yes',
      '  recovery incarnation: 2',
      '  awaiting restoration update from: "b", "c"',
      'replica "b"',
      '  host: "127.0.0.1:2202"',
      '  owes restoration update to: "a"',
      'replica "c"',
      '  host: "127.0.0.1:2203"',
    ].join('\n');
    const [a, b, c] = parseLsreplica(text);
    expect(a).toMatchObject({
      name: 'a',
      host: '127.0.0.1:2201',
      current: true,
      locked: true,
      restoring: true,
      awaiting: ['b', 'c'],
      incarnation: 2,
    });
    expect(b).toMatchObject({ name: 'b', current: false, restoring: false, owes: ['a'] });
    expect(c).toMatchObject({ name: 'c', locked: null, restoring: false, awaiting: [], owes: [] });
    const healthy = parseLsreplica('replica "a"\n  current replica: yes\n  locked: no\n  restoring: no\n');
    expect(healthy[0]).toMatchObject({ locked: false, restoring: false });
  });

  it('a sibling owing an acknowledgement', () => {
    const [x] = parseLsreplica(
      'replica "b"\n  current replica: yes\n  owes restoration acknowledgement to: "a"\n',
    );
    expect(x!.owes).toEqual(['a']);
  });
});

describe('syncreplica', () => {
  it('export: packets made, shipping orders, deliveries (doc lines)', () => {
    const text = [
      'Generating synchronization packet /bays/a/outgoing/sync_b_01-Dec-26.10.00.00_4242_1',
      ' - shipping order file is /bays/a/outgoing/sh_o_sync_b_01-Dec-26.10.00.00_4242_1',
      'Attempting to forward/deliver generated packets...',
      ' -- Forwarded/delivered packet /bays/a/outgoing/sync_b_01-Dec-26.10.00.00_4242_1',
    ].join('\n');
    expect(parseSyncExport(text)).toEqual({
      packets: ['/bays/a/outgoing/sync_b_01-Dec-26.10.00.00_4242_1'],
      shippingOrders: ['/bays/a/outgoing/sh_o_sync_b_01-Dec-26.10.00.00_4242_1'],
      delivered: ['/bays/a/outgoing/sync_b_01-Dec-26.10.00.00_4242_1'],
    });
  });

  it('import: the line that ends a restoration', () => {
    expect(parseSyncImport('Applied 3 operations.\nDatabase fam_a is unlocked after restoration.\n')).toEqual(
      {
        unlockedDatabase: 'fam_a',
        errors: [],
      },
    );
    expect(parseSyncImport('import failed: packet checksum mismatch').errors).toHaveLength(1);
  });
});

describe('backup manifest', () => {
  it('needs own_ops; taken_at is optional', () => {
    expect(parseManifest('own_ops=12\ntaken_at=2026-12-01T10:00:00Z\n', 'a')).toEqual({
      ownOps: 12,
      takenAt: '2026-12-01T10:00:00Z',
    });
    expect(parseManifest('taken_at=x', 'a')).toBeNull();
    // msim-db's JSON manifest: the own row of the replica backed up.
    expect(
      parseManifest('{"time":"2026-12-01T10:00:00Z","replica":"a","ownRow":{"a":5,"b":2}}', 'a'),
    ).toEqual({
      ownOps: 5,
      takenAt: '2026-12-01T10:00:00Z',
    });
  });
});

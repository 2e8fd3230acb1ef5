import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as msg from '../helpers/msim/cli/messages';
import {
  decodePacket,
  encodePacket,
  missingPredecessors,
  packetDate,
  type Packet,
} from '../helpers/msim/cli/packet';
import { FIXTURE_DIR } from '../helpers/msim/transcript';

const verbatim = readFileSync(join(FIXTURE_DIR, 'doc-verbatim.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'));

it('the simulator prints the documented texts exactly (test/fixtures/multisite/doc-verbatim.txt)', () => {
  const printed = [
    msg.unlockedAfterRestoration('<name>'),
    ...msg.fewerOwnEntries('<replica>', '<sibling>').split('\n'),
    msg.moreEntriesThanSibling('<replica>', '<sibling>'),
    msg.generating('<path>'),
    msg.shippingOrder('<path>'),
    msg.attempting,
    msg.forwarded('<path>'),
  ];
  for (const line of printed) expect(verbatim).toContain(line);
});

const packet = (base: Record<string, number>, top: Record<string, number>): Packet => ({
  header: {
    id: 'p1',
    type: 'UPDATE',
    from: 'boston',
    fromGuid: 'g',
    incarnation: 1,
    family: 'SAMPL',
    clan: 'CLAN1',
    recipients: ['paris'],
    part: '1/1',
    sent: '2026-12-01T10:00:00.000Z',
    restorationRequest: false,
    ackFor: null,
    ackIncarnation: null,
    senderRow: top,
    base,
    top,
  },
  ops: [{ origin: 'boston', oid: 3, payload: 'x', ts: '2026-12-01T10:00:00.000Z' }],
});

it('a packet round-trips; a truncated one fails its checksum', () => {
  const text = encodePacket(packet({ boston: 2 }, { boston: 3 }));
  expect(decodePacket(text).ops[0]?.payload).toBe('x');
  expect(() => decodePacket(text.slice(0, Math.floor(text.length / 2)))).toThrow(/truncated|checksum/);
  expect(() => decodePacket(text.replace('"x"', '"y"'))).toThrow(/checksum mismatch/);
});

it('a packet waits only for origins it carries ops for, and only when ops before its base are missing', () => {
  expect(missingPredecessors(packet({ boston: 2 }, { boston: 3 }), { boston: 1 })).toEqual(['boston']);
  expect(missingPredecessors(packet({ boston: 2 }, { boston: 3 }), { boston: 2 })).toEqual([]);
  expect(
    missingPredecessors(packet({ boston: 2, paris: 5 }, { boston: 3, paris: 5 }), { boston: 2 }),
  ).toEqual([]);
  expect(missingPredecessors(packet({ boston: 2 }, { boston: 3 }), { boston: 7 })).toEqual([]); // all duplicates
});

it('packet dates are dd-Mon-yy.HH.MM.SS in UTC', () => {
  expect(packetDate(new Date('2026-03-04T05:06:07Z'))).toBe('04-Mar-26.05.06.07');
});

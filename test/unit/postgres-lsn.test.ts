import {
  compareLsn,
  formatLsn,
  lsnDiff,
  maxLsn,
  parseLsn,
  walFileEnd,
} from '../../src/flavours/postgres-streaming/lsn';

describe('LSN helpers', () => {
  it.each([
    ['0/4076110', 0x4076110n],
    ['0/0', 0n],
    ['1/0', 1n << 32n],
    ['FFFFFFFF/FFFFFFFF', (1n << 64n) - 1n],
    ['a/b', (10n << 32n) + 11n],
  ])('parses %s', (text, value) => {
    expect(parseLsn(text)).toBe(value);
    expect(formatLsn(value)).toBe(text.toUpperCase());
  });

  it.each([null, undefined, '', '0', '0/', 'x/1', '1/2/3', '123456789/0', 42])(
    'reads %p as unknown (null), never 0',
    (text) => expect(parseLsn(text)).toBeNull(),
  );

  it('compares numerically where text order is wrong', () => {
    expect('0/9' > '0/10').toBe(true);
    expect(compareLsn(parseLsn('0/9')!, parseLsn('0/10')!)).toBe(-1);
    expect(compareLsn(parseLsn('1/0')!, parseLsn('0/FFFFFFFF')!)).toBe(1);
    expect(compareLsn(parseLsn('0/5')!, parseLsn('0/5')!)).toBe(0);
  });

  it('takes the greatest known position (archive-only standby: receive is stale)', () => {
    expect(maxLsn(parseLsn('0/4000000'), parseLsn('0/5000000'))).toBe(0x5000000n);
    expect(maxLsn(null, parseLsn('0/5000000'))).toBe(0x5000000n);
    expect(maxLsn(null, undefined)).toBeNull();
  });

  it('subtracts across the 32-bit boundary and keeps unknown unknown', () => {
    expect(lsnDiff(parseLsn('1/10'), parseLsn('0/FFFFFFF0'))).toBe(0x20);
    expect(lsnDiff(parseLsn('0/10'), parseLsn('0/20'))).toBe(-16);
    expect(lsnDiff(null, parseLsn('0/20'))).toBeNull();
  });

  it('knows where an archived WAL segment ends', () => {
    expect(walFileEnd('000000010000000000000004')).toEqual({ timeline: 1, endLsn: 0x5000000n });
    expect(walFileEnd('0000000200000001000000FF')).toEqual({ timeline: 2, endLsn: 2n << 32n });
    expect(walFileEnd('00000002.history')).toBeNull();
    expect(walFileEnd('000000010000000000000004.partial')).toBeNull();
  });
});

import { toPostgresPlaceholders } from '../../src/db/placeholders';

describe('toPostgresPlaceholders', () => {
  it.each([
    ['SELECT * FROM system WHERE property = ?', 'SELECT * FROM system WHERE property = $1'],
    [
      'UPDATE system SET content = ? WHERE property = ?',
      'UPDATE system SET content = $1 WHERE property = $2',
    ],
    ["SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"],
    ["SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"],
    ['SELECT "we?ird", ?', 'SELECT "we?ird", $1'],
    ['SELECT ? -- why?\n, ?', 'SELECT $1 -- why?\n, $2'],
    ['SELECT 1', 'SELECT 1'],
  ])('%s', (input, expected) => {
    expect(toPostgresPlaceholders(input)).toBe(expected);
  });
});

import { Readable } from 'node:stream';
import { stepTag, stepTagPrefix, TagPrefixSchema } from '../../src/db/step-tag';
import { clearScript } from '../../src/restore/commands';
import { statementTagger } from '../../src/restore/tag-statements';

describe('step tags', () => {
  it('keeps short plain parts, and prefixes match every attempt of a step and every step of a run', () => {
    const tag = stepTag({ runId: 'cms-20261121-0900', stepId: 'drop--rls-3', attempt: 2 });
    expect(tag).toBe('recover/cms-20261121-0900/drop--rls-3/2');
    expect(tag.startsWith(stepTagPrefix({ runId: 'cms-20261121-0900', stepId: 'drop--rls-3' }))).toBe(true);
    expect(tag.startsWith(stepTagPrefix({ runId: 'cms-20261121-0900' }))).toBe(true);
    // "drop--rls-3/" does not prefix "drop--rls-30/…".
    const other = stepTag({ runId: 'cms-20261121-0900', stepId: 'drop--rls-30', attempt: 1 });
    expect(other.startsWith(stepTagPrefix({ runId: 'cms-20261121-0900', stepId: 'drop--rls-3' }))).toBe(
      false,
    );
  });

  it('hashes long or odd parts, deterministically, and stays within 63 bytes', () => {
    const long = {
      runId: 'production-coremedia-live-20261121-090000-ab12',
      stepId: 'restore-from-dedicated-slave--replication-live-server-3',
      attempt: 999_999,
    };
    const tag = stepTag(long);
    expect(Buffer.byteLength(tag)).toBeLessThanOrEqual(63);
    expect(tag).toBe(stepTag(long));
    expect(tag.startsWith(stepTagPrefix(long))).toBe(true);
    expect(stepTag({ runId: "x'; DROP", stepId: 'a*/b', attempt: 1 })).toMatch(/^recover\/[A-Za-z0-9.~/-]+$/);
    expect(() => TagPrefixSchema.parse("recover/x' OR 1=1")).toThrow();
  });
});

async function tagged(input: string[], tag = 'recover/r/s/1'): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(input.map((s) => Buffer.from(s))).pipe(statementTagger(tag)))
    out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

describe('statementTagger', () => {
  const dump = [
    '/*!40101 SET NAMES utf8mb4 */;',
    'DROP TABLE IF EXISTS `t`;',
    'CREATE TABLE `t` (',
    '  `id` int NOT NULL,',
    'PRIMARY KEY (`id`)',
    ') ENGINE=InnoDB;',
    '',
    "INSERT INTO `t` VALUES (1,'a;\\nB'),(2,'x');",
    'DELIMITER ;;',
    'CREATE PROCEDURE p() BEGIN',
    'INSERT INTO t VALUES (3);',
    'END ;;',
    'DELIMITER ;',
    'UNLOCK TABLES;',
    '',
  ].join('\n');
  const c = '/* recover/r/s/1 */ ';
  const expected = [
    '/*!40101 SET NAMES utf8mb4 */;',
    `${c}DROP TABLE IF EXISTS \`t\`;`,
    `${c}CREATE TABLE \`t\` (`,
    '  `id` int NOT NULL,',
    'PRIMARY KEY (`id`)',
    ') ENGINE=InnoDB;',
    '',
    `${c}INSERT INTO \`t\` VALUES (1,'a;\\nB'),(2,'x');`,
    'DELIMITER ;;',
    'CREATE PROCEDURE p() BEGIN',
    'INSERT INTO t VALUES (3);',
    'END ;;',
    'DELIMITER ;',
    `${c}UNLOCK TABLES;`,
    '',
  ].join('\n');

  it('tags each statement start, never a continuation line or a routine body', async () => {
    expect(await tagged([dump])).toBe(expected);
  });

  it('gives the same bytes however the stream is cut into chunks', async () => {
    for (const size of [1, 2, 3, 7, 11, 64]) {
      const pieces: string[] = [];
      for (let i = 0; i < dump.length; i += size) pieces.push(dump.slice(i, i + size));
      expect(await tagged(pieces)).toBe(expected);
    }
  });
});

describe('clearScript', () => {
  it('empties PostgreSQL in one transaction and tags every MariaDB statement, dynamic ones included', () => {
    expect(clearScript('postgres')).toMatch(
      /^BEGIN;\nDROP SCHEMA IF EXISTS public CASCADE;[\s\S]*COMMIT;\n$/,
    );
    const my = clearScript('mysql', 'recover/r/s/1');
    for (const line of my.trim().split('\n')) expect(line.startsWith('/* recover/r/s/1 */ ')).toBe(true);
    expect(my).toContain("CONCAT('/* recover/r/s/1 */ DROP TABLE IF EXISTS ', @recover_names)");
  });
});

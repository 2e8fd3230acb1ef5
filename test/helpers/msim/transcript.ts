import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MSIM_PASSWORD } from './family';

export const FIXTURE_DIR = join(__dirname, '..', '..', 'fixtures', 'multisite');

/**
 * Output with the parts that change from run to run replaced by placeholders: temporary
 * directories, GUIDs, dates, pids, ports. What is left is the format the parsers rely on.
 */
export function normalize(text: string, root: string): string {
  return text
    .split(root)
    .join('<root>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<guid>')
    .replace(/\d\d-[A-Z][a-z]{2}-\d\d\.\d\d\.\d\d\.\d\d_\d+_\d+/g, '<dd-Mon-yy.HH.MM.SS>_<pid>_<n>')
    .replace(/\d\d-[A-Z][a-z]{2}-\d\d\.\d\d:\d\d:\d\d UTC/g, '<dd-Mon-yy.HH:MM:SS> UTC')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, '<time>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/port \d+/g, 'port <port>')
    .replace(/msim_[0-9a-f]{8}_/g, 'msim_<tag>_')
    .replace(/-\d{13}\.dump/g, '-<ms>.dump');
}

/** One command and what it printed, as a fixture file: `$ argv`, stdout, `[exit N]`. */
export function transcript(argv: string[], out: string, code: number | null, root: string): string {
  const shown = argv.map((a) => (a === MSIM_PASSWORD ? '<password>' : a)).join(' ');
  return normalize(`$ ${shown}\n${out}${out.endsWith('\n') || out === '' ? '' : '\n'}[exit ${code}]\n`, root);
}

/**
 * Compare with test/fixtures/multisite/<name>.txt; MSIM_WRITE_FIXTURES=1 (re)writes it instead.
 * Returns the stored text so the caller's expect() shows a readable diff.
 */
export function fixture(name: string, actual: string): string {
  const path = join(FIXTURE_DIR, `${name}.txt`);
  if (process.env.MSIM_WRITE_FIXTURES === '1') {
    mkdirSync(FIXTURE_DIR, { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing: run with MSIM_WRITE_FIXTURES=1`);
  return readFileSync(path, 'utf8');
}

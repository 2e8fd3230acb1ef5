import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const CLIENT_SOURCE = join(__dirname, 'cli-client.ts');
let bundleCache: string | undefined;

/**
 * cli-client.ts bundled to one CommonJS file, once per machine and source version (the hash of
 * the source names the directory), world-readable so the SSH test user can run it.
 */
export function cliBundle(): string {
  if (bundleCache) return bundleCache;
  const source = readFileSync(CLIENT_SOURCE, 'utf8');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `recover-tsim-cli-${hash}`);
  const out = join(dir, 'tsim-cli.js');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const tmp = `${out}.${process.pid}.tmp`;
    buildSync({
      entryPoints: [CLIENT_SOURCE],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: tmp,
      logLevel: 'silent',
    });
    chmodSync(tmp, 0o644);
    renameSync(tmp, out); // atomic: two jest workers may build at once
  }
  return (bundleCache = out);
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function script(path: string, lines: string[]): void {
  writeFileSync(
    path,
    `${['#!/bin/sh', '# tsim (test/helpers/tsim): generated, sim-defined wrapper', ...lines].join('\n')}\n`,
  );
  chmodSync(path, 0o755);
}

/** trepctl, thl, dsctl → this host's agent; cctrl → the manager; tpm mysql → this host's MariaDB. */
export function writeBinScripts(
  binDir: string,
  agentPort: number,
  managerPort: number,
  dbPort: number,
): void {
  mkdirSync(binDir, { recursive: true });
  const node = q(process.execPath);
  const bundle = q(cliBundle());
  for (const tool of ['trepctl', 'thl', 'dsctl'])
    script(join(binDir, tool), [`exec ${node} ${bundle} ${agentPort} ${tool} "$@"`]);
  writeCctrl(binDir, managerPort);
  script(join(binDir, 'tpm'), [
    'if [ "$1" = mysql ]; then',
    '  shift',
    `  exec /usr/bin/mariadb --protocol=TCP -h 127.0.0.1 -P ${dbPort} -u root "$@"`,
    'fi',
    'echo "tpm: only \'tpm mysql\' is simulated" >&2',
    'exit 1',
  ]);
}

export function writeCctrl(binDir: string, managerPort: number): void {
  script(join(binDir, 'cctrl'), [`exec ${q(process.execPath)} ${q(cliBundle())} ${managerPort} cctrl "$@"`]);
}

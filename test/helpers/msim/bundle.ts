import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const CLI_DIR = join(__dirname, 'cli');

/**
 * The msim CLI as one JavaScript file (pg bundled in), built with esbuild once per source version
 * into a cache under the temp directory: each call over SSH then costs one plain `node` start
 * (~50 ms) instead of a TypeScript compile. The directory name is a hash of the sources, so an
 * edited CLI is rebuilt and concurrent test files share one build.
 */
export function msimBundle(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(CLI_DIR).sort()) hash.update(name).update(readFileSync(join(CLI_DIR, name)));
  const dir = join(tmpdir(), 'recover-msim-cache', hash.digest('hex').slice(0, 16));
  const file = join(dir, 'msim-cli.js');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const part = `${file}.${process.pid}.part`;
  buildSync({
    entryPoints: [join(CLI_DIR, 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: part,
    external: ['pg-native'],
    logLevel: 'error',
  });
  renameSync(part, file); // atomic: a concurrent reader sees the whole file or none
  return file;
}

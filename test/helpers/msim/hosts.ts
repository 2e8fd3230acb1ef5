import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { asSshUser, sshUser, type TestSshd } from '../sshd';
import type { HostConfig, MsimDialect } from './cli/host-config';

const execFileAsync = promisify(execFile);

export const MSIM_TOOLS = ['multiutil', 'multitool', 'shipping_server', 'cleartool', 'msim-db'] as const;

/** Wrapper scripts: absolute node and bundle, the host's config, a PATH for ssh and pg_dump. */
export function writeWrappers(binDir: string, bundle: string, configPath: string): void {
  mkdirSync(binDir, { recursive: true });
  for (const tool of MSIM_TOOLS) {
    const path = join(binDir, tool);
    writeFileSync(
      path,
      [
        '#!/bin/sh',
        'PATH=/usr/local/bin:/usr/bin:/bin; export PATH',
        `MSIM_HOST_CONFIG='${configPath}'; export MSIM_HOST_CONFIG`,
        `exec '${process.execPath}' '${bundle}' ${tool} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(path, 0o755);
  }
}

/**
 * The key the hosts ship packets with: one per family, owned by the SSH test user (the CLIs run
 * as that user), authorized on every host's sshd, with a known_hosts naming all of them.
 */
export function shippingKey(dir: string, sshds: TestSshd[]): { keyPath: string; knownHostsPath: string } {
  mkdirSync(dir, { recursive: true });
  const keyPath = join(dir, 'ship_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'msim-ship', '-f', keyPath]);
  const pub = readFileSync(`${keyPath}.pub`, 'utf8').trim();
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, sshds.map((s) => readFileSync(s.knownHostsPath, 'utf8')).join(''));
  for (const s of sshds) appendFileSync(join(s.dir, 'authorized_keys'), `${pub}\n`);
  return { keyPath, knownHostsPath };
}

export function hostConfig(options: {
  dialect: MsimDialect;
  family: string;
  clan: string;
  replica: string;
  guid: string;
  root: string;
  database: string;
  transitDelayMs: number;
  ship: { keyPath: string; knownHostsPath: string };
  siblings: HostConfig['siblings'];
}): HostConfig {
  return {
    dialect: options.dialect,
    family: options.family,
    clan: options.clan,
    vob: `/vobs/${options.family.toLowerCase()}`,
    replica: options.replica,
    guid: options.guid,
    root: options.root,
    bay: join(options.root, 'ms_ship'),
    binDir: join(options.root, 'bin'),
    db: { host: '127.0.0.1', port: 5432, database: options.database, user: 'postgres' },
    siblings: options.siblings,
    ship: { user: sshUser().name, ...options.ship },
    transitDelayMs: options.transitDelayMs,
    faultsFile: join(options.root, 'MSIM_FAULTS'),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run one of a host's tools on the spot as the SSH test user (what the helper's sync() uses). */
export async function runLocal(
  binDir: string,
  tool: string,
  args: string[],
  cwd: string,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(join(binDir, tool), args, {
      ...asSshUser(),
      cwd,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    };
  }
}

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { shareWithSshUser, startSshd, type TestSshd } from '../sshd';
import { msimBundle } from './bundle';
import type { MsimDialect } from './cli/host-config';
import { MSIM_SCHEMA, seedStatements } from './cli/schema';
import { connect, matrix, selfRow, writeOp } from './cli/store';
import { familyFaults, type MsimFaults } from './family-faults';
import { hostConfig, runLocal, shippingKey, writeWrappers, type CliResult } from './hosts';

export type { MsimDialect } from './cli/host-config';
export type { CliResult } from './hosts';

export interface MsimHost {
  replica: string;
  sshd: TestSshd;
  binDir: string;
  bay: string;
  db: { engine: 'postgres'; host: '127.0.0.1'; port: 5432; database: string; user: string };
}

export interface MsimFamily {
  dialect: MsimDialect;
  family: string;
  /** ClearCase VOB tag of the same family (used by the clearcase dialect). */
  vob: string;
  clan: string;
  hosts: MsimHost[];
  host(replica: string): MsimHost;
  write(replica: string, payload: string): Promise<number>;
  sync(from: string, to?: string[]): Promise<void>;
  backup(replica: string): Promise<{ file: string; manifest: string }>;
  loseStorage(replica: string): Promise<void>;
  faults: MsimFaults;
  state(
    replica: string,
  ): Promise<{ locked: boolean; restoring: boolean; epochRow: Record<string, number>; ops: number }>;
  /** extension: the user-visible records at a replica, ordered by (origin, oid). */
  records(replica: string): Promise<{ origin: string; oid: number; payload: string }[]>;
  /** extension: argv of a tool at a host in this family's dialect (scope flags included; CQ password = argv). */
  command(replica: string, sub: string, args?: string[]): string[];
  /** extension: run a tool on the host as the SSH test user without SSH. */
  run(replica: string, tool: string, args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' } as const;
/** The CQ password the CLIs accept (and never print). Not a secret: a test fixture. */
export const MSIM_PASSWORD = 'msim-admin-pw';

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ ...ADMIN, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * A MultiSite family on this machine: one simulated host per replica (its own sshd, binaries,
 * storage bays and PostgreSQL database). See test/helpers/msim/README.md.
 */
export async function startMultisiteFamily(options: {
  dialect: MsimDialect;
  replicas: string[];
  transitDelayMs?: number;
  family?: string;
}): Promise<MsimFamily> {
  const { dialect, replicas } = options;
  if (
    replicas.length < 2 ||
    new Set(replicas).size !== replicas.length ||
    replicas.some((r) => !/^[a-z][a-z0-9_]*$/.test(r))
  )
    throw new Error('startMultisiteFamily: at least two distinct lower-case replica names');
  const family = options.family ?? 'SAMPL';
  const clan = 'CLAN1';
  const bundle = msimBundle();
  const root = mkdtempSync(join(tmpdir(), 'msim-family-'));
  const tag = randomBytes(4).toString('hex');
  const sshds: TestSshd[] = [];
  const databases: string[] = [];
  const faults = familyFaults(
    (r) => sshds[replicas.indexOf(r)]!,
    (r) => join(root, r, 'MSIM_FAULTS'),
    (r) => ({ host: '127.0.0.1', port: 5432, database: `msim_${tag}_${r}`, user: 'postgres' }),
  );
  const cleanup = async () => {
    await faults.release();
    await Promise.all(sshds.map((s) => s.stop().catch(() => undefined)));
    await admin(async (c) => {
      for (const db of databases) await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    sshds.push(...(await Promise.all(replicas.map(() => startSshd()))));
    const ship = shippingKey(join(root, 'ship'), sshds);
    const guids = Object.fromEntries(replicas.map((r) => [r, randomUUID()]));
    const hosts: MsimHost[] = [];
    const configs = replicas.map((replica) => {
      const siblings = Object.fromEntries(
        replicas
          .map((s, j) => [s, j] as const)
          .filter(([s]) => s !== replica)
          .map(([s, j]) => [
            s,
            {
              guid: guids[s]!,
              host: '127.0.0.1',
              port: sshds[j]!.port,
              bay: join(root, s, 'ms_ship'),
              binDir: join(root, s, 'bin'),
            },
          ]),
      );
      return hostConfig({
        dialect,
        family,
        clan,
        replica,
        guid: guids[replica]!,
        root: join(root, replica),
        database: `msim_${tag}_${replica}`,
        transitDelayMs: options.transitDelayMs ?? 0,
        ship,
        siblings,
      });
    });
    for (const [i, config] of configs.entries()) {
      mkdirSync(join(config.bay, 'incoming'), { recursive: true });
      mkdirSync(join(config.bay, 'outgoing'), { recursive: true });
      mkdirSync(join(config.root, 'backups'), { recursive: true });
      writeFileSync(config.faultsFile, '[]');
      const configPath = join(config.root, 'host.json');
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      writeWrappers(config.binDir, bundle, configPath);
      hosts.push({
        replica: config.replica,
        sshd: sshds[i]!,
        binDir: config.binDir,
        bay: config.bay,
        db: {
          engine: 'postgres',
          host: '127.0.0.1',
          port: 5432,
          database: config.db.database,
          user: 'postgres',
        },
      });
    }
    await admin(async (c) => {
      for (const config of configs) {
        await c.query(`CREATE DATABASE "${config.db.database}"`);
        databases.push(config.db.database);
      }
    });
    const members = replicas.map((r, i) => ({
      name: r,
      guid: guids[r]!,
      host: `127.0.0.1:${sshds[i]!.port}`,
    }));
    await Promise.all(
      configs.map(async (config) => {
        const c = await connect(config.db);
        try {
          await c.query(MSIM_SCHEMA);
          for (const s of seedStatements(config.replica, members)) await c.query(s.text, s.values);
        } finally {
          await c.end();
        }
      }),
    );
    shareWithSshUser(root);
    return makeFamily({ dialect, family, clan, root, hosts, configs, faults, cleanup });
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function makeFamily(ctx: {
  dialect: MsimDialect;
  family: string;
  clan: string;
  root: string;
  hosts: MsimHost[];
  configs: ReturnType<typeof hostConfig>[];
  faults: MsimFaults;
  cleanup: () => Promise<void>;
}): MsimFamily {
  const { dialect, family, clan, hosts, configs, faults } = ctx;
  const vob = `/vobs/${family.toLowerCase()}`;
  const host = (replica: string): MsimHost => {
    const h = hosts.find((x) => x.replica === replica);
    if (!h) throw new Error(`no replica ${replica} in family ${family}`);
    return h;
  };
  const config = (replica: string) => configs.find((c) => c.replica === replica)!;
  const withDb = async <T>(replica: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const c = await connect(config(replica).db);
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const command = (replica: string, sub: string, args: string[] = []): string[] => {
    const h = host(replica);
    if (sub === 'cleartool') return [`${h.binDir}/cleartool`, ...args];
    if (dialect === 'clearcase') return [`${h.binDir}/multitool`, sub, ...args.map((a) => a), '-invob', vob];
    return [
      `${h.binDir}/multiutil`,
      sub,
      '-family',
      family,
      '-clan',
      clan,
      '-site',
      replica,
      '-user',
      'admin',
      '-password',
      MSIM_PASSWORD,
      ...args,
    ];
  };
  const run = (replica: string, tool: string, args: string[]) =>
    runLocal(host(replica).binDir, tool, args, config(replica).root);
  const must = async (replica: string, argv: string[]): Promise<CliResult> => {
    const [bin, ...args] = argv;
    const r = await runLocal(
      host(replica).binDir,
      bin!.slice(bin!.lastIndexOf('/') + 1),
      args,
      config(replica).root,
    );
    if (r.code !== 0)
      throw new Error(`${replica}: ${argv.slice(0, 3).join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r;
  };
  return {
    dialect,
    family,
    vob,
    clan,
    hosts,
    host,
    command,
    run,
    write: (replica, payload) => withDb(replica, (c) => writeOp(c, payload)),
    async sync(from, to) {
      const targets = to ?? hosts.map((h) => h.replica).filter((r) => r !== from);
      const names = dialect === 'clearcase' ? targets.map((t) => `${t}@${vob}`) : targets;
      await must(from, command(from, 'syncreplica', ['-export', '-fship', ...names]));
      await Promise.all(targets.map((t) => must(t, command(t, 'syncreplica', ['-import', '-receive']))));
    },
    async backup(replica) {
      const file = join(config(replica).root, 'backups', `${replica}-${Date.now()}.dump`);
      await must(replica, [`${host(replica).binDir}/msim-db`, 'backup', file]);
      return { file, manifest: `${file}.manifest.json` };
    },
    async loseStorage(replica) {
      const db = config(replica).db.database;
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
        await c.query(`CREATE DATABASE "${db}"`);
      });
    },
    faults,
    state: (replica) =>
      withDb(replica, async (c) => {
        const self = await selfRow(c);
        const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM oplog');
        return {
          locked: self.locked,
          restoring: self.restoring,
          epochRow: (await matrix(c))[self.name] ?? {},
          ops: Number(rows[0]?.n ?? 0),
        };
      }),
    records: (replica) =>
      withDb(replica, async (c) => {
        const { rows } = await c.query<{ origin: string; oid: string; payload: string }>(
          'SELECT origin, oid, payload FROM records ORDER BY origin, oid',
        );
        return rows.map((r) => ({ origin: r.origin, oid: Number(r.oid), payload: r.payload }));
      }),
    close: ctx.cleanup,
  };
}

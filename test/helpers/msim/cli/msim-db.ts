import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { HostConfig } from './host-config';
import type { Print } from './sync-export';
import { connect, matrix, MsimError, selfRow } from './store';

const run = promisify(execFile);

function pgArgs(db: HostConfig['db']): string[] {
  return ['-h', db.host, '-p', String(db.port), '-U', db.user, '-d', db.database];
}

/** The vendor database tools of a simulated host: backup (pg_dump -Fc + manifest), restore, row. */
export async function msimDb(config: HostConfig, sub: string, rest: string[], print: Print): Promise<number> {
  switch (sub) {
    case 'backup': {
      const file = rest[0];
      if (!file) throw new MsimError('usage', 'usage: msim-db backup <file>');
      const client = await connect(config.db);
      try {
        const time = new Date().toISOString();
        const self = await selfRow(client);
        const ownRow = (await matrix(client))[self.name] ?? {};
        await run('pg_dump', ['-Fc', ...pgArgs(config.db), '-f', file]);
        const manifest = `${file}.manifest.json`;
        writeFileSync(
          manifest,
          JSON.stringify({ time, replica: self.name, database: config.db.database, ownRow }) + '\n',
        );
        print(`msim-db: backup of ${config.db.database} written to ${file}; manifest ${manifest}`);
      } finally {
        await client.end();
      }
      return 0;
    }
    case 'restore': {
      const file = rest[0];
      if (!file) throw new MsimError('usage', 'usage: msim-db restore <file>');
      await ensureDatabase(config.db);
      await run('pg_restore', [
        '--clean',
        '--if-exists',
        '--no-owner',
        '--single-transaction',
        ...pgArgs(config.db),
        file,
      ]);
      print(`msim-db: restored ${config.db.database} from ${file}`);
      return 0;
    }
    case 'row': {
      const client = await connect(config.db);
      try {
        const self = await selfRow(client);
        print(JSON.stringify({ replica: self.name, row: (await matrix(client))[self.name] ?? {} }));
      } finally {
        await client.end();
      }
      return 0;
    }
    default:
      throw new MsimError('usage', 'usage: msim-db backup|restore <file> | row');
  }
}

/** A lost storage may have taken the database with it: create it empty before pg_restore. */
async function ensureDatabase(db: HostConfig['db']): Promise<void> {
  const client = new Client({ ...db, database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${db.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

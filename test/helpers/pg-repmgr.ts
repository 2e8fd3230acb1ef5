import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRef, PgCluster, PgNode } from './pg-cluster';
import { ownByPgUser, PG_BIN, runAsPgUser } from './pg-template';

/** Installed by scripts/ensure-repmgr.sh (Debian postgresql-15-repmgr). */
export const REPMGR = join(PG_BIN, 'repmgr');

export interface RepmgrCluster {
  /** repmgr.conf of a node (outside its data directory: pg_rewind and pg_basebackup leave it alone). */
  configFile(ref: NodeRef): string;
  /** `repmgr standby promote` on a standby whose primary is down; resolves when repmgr returns. */
  promoteManually(ref: NodeRef): Promise<string>;
  /** `repmgr standby follow --upstream-node-id` the new primary: repoints and restarts the standby. */
  followManually(ref: NodeRef, primary: NodeRef): Promise<string>;
}

const q = (value: string) => `'${value.replace(/'/g, "\\'")}'`;

/**
 * Register a fixture cluster with repmgr — the baseline the failover benchmark compares Recover
 * with. Metadata lives in a `repmgr` database created on the primary (replicated to standbys).
 * Service commands carry `-l <log>`: repmgr's default `pg_ctl restart` without a log file would
 * leave the server writing to repmgr's stdout.
 */
export async function setupRepmgr(cluster: PgCluster): Promise<RepmgrCluster> {
  if (!existsSync(REPMGR)) throw new Error(`${REPMGR} is missing: run bash scripts/ensure-repmgr.sh`);
  const id = (n: PgNode) => cluster.nodes.indexOf(n) + 1;
  const configFile = (ref: NodeRef) => join(cluster.root, `${cluster.node(ref).name}.repmgr.conf`);
  for (const n of cluster.nodes) {
    const pgCtl = (args: string) => `${PG_BIN}/pg_ctl -w -t 60 -D ${n.dataDir} ${args}`;
    const conf = [
      `node_id=${id(n)}`,
      `node_name=${q(n.name)}`,
      `conninfo=${q(`${n.conninfo} dbname=repmgr connect_timeout=2`)}`,
      `data_directory=${q(n.dataDir)}`,
      `pg_bindir=${q(PG_BIN)}`,
      'use_replication_slots=false',
      'log_level=INFO',
      `service_start_command=${q(pgCtl(`-l ${n.logFile} start`))}`,
      `service_stop_command=${q(pgCtl('-m fast stop'))}`,
      `service_restart_command=${q(pgCtl(`-m fast -l ${n.logFile} restart`))}`,
      `service_reload_command=${q(pgCtl('reload'))}`,
      `service_promote_command=${q(pgCtl('promote'))}`,
      '',
    ].join('\n');
    writeFileSync(configFile(n), conf);
    ownByPgUser(configFile(n));
  }
  const repmgr = async (ref: NodeRef, args: string[]) => {
    const { stdout, stderr } = await runAsPgUser(REPMGR, ['-f', configFile(ref), ...args], {
      cwd: cluster.root,
      timeoutMs: 120_000,
    });
    return `${stdout}${stderr}`;
  };

  await cluster.psql(cluster.primary, 'CREATE DATABASE repmgr');
  await repmgr(cluster.primary, ['primary', 'register']);
  await cluster.waitForCatchUp();
  for (const s of cluster.standbys)
    await repmgr(s, ['standby', 'register', `--upstream-node-id=${id(cluster.primary)}`]);
  await cluster.waitForCatchUp();

  return {
    configFile,
    promoteManually: (ref) => repmgr(ref, ['standby', 'promote']),
    followManually: (ref, primary) =>
      repmgr(ref, ['standby', 'follow', `--upstream-node-id=${id(cluster.node(primary))}`]),
  };
}

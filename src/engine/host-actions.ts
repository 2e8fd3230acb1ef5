import { requireSql, type NodeConfig, type SqlNode, type Topology } from '../config/topology';
import type { HostExecutors } from '../hosts/executors';
import { localFiles, type FileHost } from '../hosts/file-host';
import { copyKeyFile } from '../hosts/key-file';
import { ServiceControlError, serviceStatus, startService, stopService } from '../hosts/service-control';
import { sftpFiles } from '../hosts/sftp-files';
import { SshExecutor } from '../hosts/ssh-executor';
import { inStepSession } from '../db/step-session';
import { dumpRestore, toStepResult } from '../restore/dump-restore';
import { remoteDumpRestore, runsOverSsh } from '../restore/remote-dump-restore';
import { dropAndRecreateSchema } from '../restore/schema';
import { sourceSizeBytes } from '../restore/source-size';
import { emptyResult } from '../runbook/sql-executor';
import type { PlanStep, StepResult } from '../runbook/types';
import type { ExecContext, ExecutorRegistry } from './executors';

export interface HostActionOptions {
  hosts: HostExecutors;
  /** Where node passwords are looked up for dump/restore (by passwordEnv). */
  env: NodeJS.ProcessEnv;
  /** A restore of a large schema takes time; past this both processes are stopped. */
  restoreTimeoutMs?: number;
}

/** Executors for the steps that act on hosts rather than through SQL: services, key files, dump→restore, schema drop. */
export function hostActionExecutors(o: HostActionOptions): ExecutorRegistry {
  return {
    service: (step, ctx) => serviceStep(o, step, ctx),
    'file-copy': async (step, ctx) => {
      if (step.action.kind !== 'file-copy') throw new Error('not a file-copy step');
      const source = nodeOf(ctx.topology, step.action.from);
      const target = nodeOf(ctx.topology, step.node);
      const started = performance.now();
      const r = await copyKeyFile(
        { node: source, files: await filesOf(o, source) },
        { node: target, files: await filesOf(o, target) },
      );
      return {
        ...emptyResult(),
        ok: true,
        bytes: r.bytes,
        durationMs: performance.now() - started,
        note: r.note,
      };
    },
    'dump-restore': async (step, ctx) => {
      if (step.action.kind !== 'dump-restore') throw new Error('not a dump-restore step');
      const source = nodeOf(ctx.topology, step.action.from);
      const target = nodeOf(ctx.topology, step.node);
      // The restore clears the target first, so a retry after a partial import starts clean.
      // Bytes, rate and ETA as the stream goes (the source's size is the estimate).
      const total = ctx.progress ? await sourceSizeBytes(ctx.db(source.name), source.db.engine) : null;
      const options = {
        env: o.env,
        timeoutMs: o.restoreTimeoutMs ?? 6 * 3600_000,
        tag: ctx.tag,
        onProgress: (bytes: number) => ctx.progress?.(bytes, total),
      };
      // Run where the topology says: both nodes over SSH → dump on the source host, restore on the target's.
      if (runsOverSsh(source, target)) {
        const hosts = { source: o.hosts.get(source), target: o.hosts.get(target) };
        if (hosts.source instanceof SshExecutor && hosts.target instanceof SshExecutor)
          return toStepResult(
            await remoteDumpRestore(source, target, { source: hosts.source, target: hosts.target }, options),
          );
      }
      return toStepResult(await dumpRestore(source, target, options));
    },
    'drop-schema': async (step, ctx) => {
      const started = performance.now();
      const target = nodeOf(ctx.topology, step.node);
      const dropped = await inStepSession(ctx.db(step.node), ctx.tag, (db) =>
        dropAndRecreateSchema(target, db),
      );
      const names = dropped.dropped.map((d) => d.name);
      return {
        ...emptyResult(),
        ok: true,
        durationMs: performance.now() - started,
        rowCount: names.length,
        note: `dropped ${names.length} objects${names.length ? `: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : ''}`,
      };
    },
  };
}

async function serviceStep(o: HostActionOptions, step: PlanStep, ctx: ExecContext): Promise<StepResult> {
  if (step.action.kind !== 'service') throw new Error('not a service step');
  const node = nodeOf(ctx.topology, step.node);
  if (!node.service)
    return { ...emptyResult(), ok: false, error: `node ${node.name} has no service commands configured` };
  const exec = o.hosts.get(node);
  const started = performance.now();
  try {
    if (step.action.operation === 'status') {
      const state = await serviceStatus(exec, node.service);
      return {
        ...emptyResult(),
        ok: true,
        durationMs: performance.now() - started,
        note: `${node.name} is ${state}`,
      };
    }
    const r =
      step.action.operation === 'stop'
        ? await stopService(exec, node.service)
        : await startService(exec, node.service);
    return {
      ...emptyResult(),
      ok: true,
      exitCode: r.exitCode,
      stdoutTail: r.stdoutTail,
      stderrTail: r.stderrTail,
      durationMs: r.durationMs,
      note: `${node.name} is ${r.state}`,
    };
  } catch (err) {
    const transcript = err instanceof ServiceControlError ? err.result : undefined;
    return {
      ...emptyResult(),
      ok: false,
      error: (err as Error).message,
      exitCode: transcript?.exitCode ?? null,
      stdoutTail: transcript?.stdoutTail ?? null,
      durationMs: performance.now() - started,
    };
  }
}

async function filesOf(o: HostActionOptions, node: NodeConfig): Promise<FileHost> {
  if (!node.host || node.host.transport === 'local') return localFiles;
  const exec = o.hosts.get(node);
  if (!(exec instanceof SshExecutor)) throw new Error(`node ${node.name}: no SFTP for this transport`);
  return sftpFiles(await exec.openSftp());
}

function nodeOf(topology: Topology, name: string): SqlNode {
  const node = topology.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`node ${name} is not in topology ${topology.name}`);
  return requireSql(node);
}

import type { NodeConfig } from '../../config/topology';
import { planFail } from '../../runbook/plan-error';
import type { Runbook } from '../../runbook/types';
import type { NodeSetContext } from '../types';
import { cliFor, nodeSettingsOf, replicaOf, settingsOf } from './cli';
import { proposeRestoration } from './propose';
import type { MultisiteProposal, MultisiteReport } from './report';

type Ctx = NodeSetContext<MultisiteReport>;

export const MULTISITE_NODE_SETS = [
  'family',
  'siblings',
  'needs-database-restore',
  'needs-restorereplica',
  'clearcase-unlock',
] as const;

const configOf = (ctx: Ctx, name: string): NodeConfig | undefined =>
  ctx.topology.nodes.find((n) => n.name === name);

/** The rules for the --target replica (the status proposes for the replica with evidence). */
export function proposalFor(ctx: Ctx): MultisiteProposal {
  const p = ctx.report.proposal;
  if (ctx.target === null || p.restore === ctx.target) return p;
  return proposeRestoration({ replicas: ctx.report.nodes, target: ctx.target });
}

const targetOf = (ctx: Ctx): string =>
  ctx.target ?? planFail('target-required', 'needs --target: the replica to restore');

export function multisiteNodeSet(name: string, ctx: Ctx): string[] {
  const R = targetOf(ctx);
  const status = ctx.report.nodes.find((n) => n.name === R);
  switch (name) {
    case 'family':
      return [R, ...ctx.topology.nodes.map((n) => n.name).filter((n) => n !== R)];
    case 'siblings':
      return ctx.topology.nodes.map((n) => n.name).filter((n) => n !== R);
    case 'needs-database-restore':
      // Restored already (lsepoch -actual warns) or restoring: restoring again would only lose time.
      return proposalFor(ctx).evidence === 'database-lost' ? [R] : [];
    case 'needs-restorereplica':
      return status?.restoring ? [] : [R];
    case 'clearcase-unlock':
      // ClearCase leaves restoration still locked; ClearQuest unlocks itself on the last ack.
      return settingsOf(ctx.topology).dialect === 'clearcase' ? [R] : [];
    default:
      return planFail('bad-runbook', `no node set "${name}" in a multisite family`);
  }
}

export function multisiteEmptySetReason(name: string): string {
  if (name === 'needs-database-restore')
    return 'The replica database is restored already (lsepoch -actual warns)';
  if (name === 'needs-restorereplica') return 'The replica is in restoration already';
  if (name === 'clearcase-unlock') return 'ClearQuest unlocks the replica on the last acknowledgement';
  return 'No sibling in the family';
}

/** Refusals stop the plan (no gate lifts them); an unknown sibling or packets in flight are warnings. */
export function multisiteCheckTarget(runbook: Runbook, ctx: Ctx): string[] {
  const R = targetOf(ctx);
  const node = configOf(ctx, R);
  if (!node)
    planFail(
      'unknown-target',
      `${R} is not a replica of ${ctx.topology.name} (${ctx.topology.nodes.map((n) => n.name).join(', ')})`,
    );
  const p = proposalFor(ctx);
  const own = p.refusals.filter((r) => r.replica === R || r.code === 'sibling-restoring');
  if (own.length > 0)
    planFail('refused', `no restoration of ${R}: ${own.map((r) => `${r.message} [${r.code}]`).join('; ')}`);
  if (!node.multisite?.manifest)
    planFail(
      'refused',
      `no restoration of ${R}: no backup manifest configured, so "unchanged since the restore" cannot be proven`,
    );
  if (p.evidence === 'database-lost' && !node.multisite.restore)
    planFail('refused', `no restoration of ${R}: its database is gone and no restore command is configured`);
  const warnings = p.step3.blocking.map((b) => `Step 3 is closed for now: ${b}`);
  for (const n of ctx.report.nodes)
    if (n.name !== R && !n.reachable)
      warnings.push(
        `${n.name} cannot be reached: it is not acknowledged and step 3 stays closed until it answers (never narrowed without a second person)`,
      );
  return warnings;
}

/** `${name}` values for command steps on `node`: its replica, bay, and each CLI line of its dialect. */
export function multisiteArgValues(node: string, ctx: Ctx): Record<string, string> {
  const cfg = configOf(ctx, node);
  if (!cfg?.multisite) return {};
  const R = targetOf(ctx);
  const rCfg = configOf(ctx, R);
  const rReplica = rCfg ? replicaOf(rCfg) : R;
  const settings = settingsOf(ctx.topology);
  const n = nodeSettingsOf(cfg);
  const cli = cliFor(ctx.topology, cfg);
  const siblings = ctx.topology.nodes.filter((x) => x.name !== R).map(replicaOf);
  const isR = node === R;
  const exportPrefix = cli.exportTo([]);
  const lines: Record<string, string[]> = {
    lsepoch: cli.lsepoch(false),
    lsepochActual: cli.lsepoch(true),
    lspacket: cli.lspacket(),
    lsreplica: cli.lsreplica(),
    restorereplica: cli.restorereplica(),
    import: cli.importReceive(),
    exportToSiblings: cli.exportTo(siblings),
    checkvob: cli.checkvob(),
    unlock: cli.unlock(),
    driveExport: isR ? exportPrefix : cli.exportTo([rReplica]),
  };
  const values: Record<string, string> = {
    replica: replicaOf(cfg),
    R: rReplica,
    role: isR ? 'restored' : 'sibling',
    passwordMode: settings.passwordEnv ? 'stdin' : 'none',
    passwordEnv: settings.passwordEnv ?? '',
    'node.bay': n.bay,
    'node.manifest': n.manifest ?? '/nonexistent/manifest',
    marker: `${n.bay}/.recover-restoration-${rReplica}`,
    reexportSeconds: String(Math.max(1, Math.round(settings.reexportAfterMs / 1000))),
    fshipSuffix: settings.dialect === 'clearcase' ? `@${settings.vobTag}` : '',
    // How long one check at R may wait for acknowledgements to land (under the re-export delay).
    siblingItems: ctx.topology.nodes
      .filter((x) => x.name !== R)
      .map((x) => `${x.name}:${replicaOf(x)}`)
      .join(' '),
    lingerSeconds: String(Math.max(1, Math.min(10, Math.floor(settings.reexportAfterMs / 2000)))),
  };
  if (n.restore) values.restore = JSON.stringify(n.restore);
  for (const [k, argv] of Object.entries(lines)) {
    values[`cli.${k}`] = JSON.stringify(argv);
    values[`cli.${k}.n`] = String(argv.length);
  }
  return values;
}

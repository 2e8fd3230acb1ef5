import type { NodeConfig, Topology } from '../../config/topology';
import type { MultisiteNodeSettings, MultisiteTopologySettings } from './config';

/**
 * The one adapter between ClearQuest (`multiutil … -family F -clan C -site S -user U`) and
 * ClearCase (`multitool … -invob V`, `replica@V`). Every value is an argv element; the password
 * is never one of them (see `withPassword`).
 */
export interface MultisiteCli {
  lsreplica(): string[];
  /** -actual: the siblings' own rows (only those named in `against`, all when empty). */
  lsepoch(actual: boolean, against?: readonly string[]): string[];
  lspacket(): string[];
  restorereplica(): string[];
  exportTo(replicas: readonly string[]): string[];
  importReceive(): string[];
  /** ClearCase only (empty for ClearQuest): checkvob before restorereplica, unlock after the last ack. */
  checkvob(): string[];
  unlock(): string[];
}

export const replicaOf = (node: NodeConfig): string => node.multisite?.replica ?? node.name;

export function settingsOf(topology: Topology): MultisiteTopologySettings {
  if (!topology.multisite) throw new Error(`topology ${topology.name} has no multisite section`);
  return topology.multisite;
}

export function nodeSettingsOf(node: NodeConfig): MultisiteNodeSettings {
  if (!node.multisite) throw new Error(`node ${node.name} has no multisite section`);
  return node.multisite;
}

export function cliFor(topology: Topology, node: NodeConfig): MultisiteCli {
  const t = settingsOf(topology);
  const n = nodeSettingsOf(node);
  const replica = replicaOf(node);
  if (t.dialect === 'clearcase') {
    const vob = t.vobTag!;
    const mt = `${n.binDir}/multitool`;
    return {
      lsreplica: () => [mt, 'lsreplica', '-long', '-invob', vob],
      lsepoch: (actual, against = []) => [
        mt,
        'lsepoch',
        ...(actual ? ['-actual', ...against.map((r) => `${r}@${vob}`)] : []),
        '-invob',
        vob,
      ],
      lspacket: () => [mt, 'lspacket', '-long', '-invob', vob, `${n.bay}/incoming`, `${n.bay}/outgoing`],
      restorereplica: () => [mt, 'restorereplica', '-invob', vob],
      exportTo: (to) => [mt, 'syncreplica', '-export', '-fship', ...to.map((r) => `${r}@${vob}`)],
      importReceive: () => [mt, 'syncreplica', '-import', '-receive', '-invob', vob],
      checkvob: () => [`${n.binDir}/cleartool`, 'checkvob', `vob:${vob}`],
      unlock: () => [`${n.binDir}/cleartool`, 'unlock', `vob:${vob}`],
    };
  }
  const mu = `${n.binDir}/multiutil`;
  const common = [
    '-family',
    t.family!,
    ...(t.clan ? ['-clan', t.clan] : []),
    '-site',
    n.site ?? replica,
    ...(t.user ? ['-user', t.user] : []),
  ];
  return {
    lsreplica: () => [mu, 'lsreplica', '-long', ...common],
    lsepoch: (actual, against = []) => [mu, 'lsepoch', ...(actual ? ['-actual'] : []), ...common, ...against],
    lspacket: () => [mu, 'lspacket', '-long', ...common, `${n.bay}/incoming`, `${n.bay}/outgoing`],
    restorereplica: () => [mu, 'restorereplica', ...common],
    exportTo: (to) => [mu, 'syncreplica', '-export', ...common, '-fship', ...to],
    importReceive: () => [mu, 'syncreplica', '-import', ...common, '-receive'],
    checkvob: () => [],
    unlock: () => [],
  };
}

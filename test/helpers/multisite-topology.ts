import { Topology, type Topology as TopologyType } from '../../src/config/topology';
import type { MultisiteTopologySettings } from '../../src/flavours/multisite/config';
import { MSIM_PASSWORD, type MsimFamily } from './msim/family';

/** The variable the bot reads the ClearQuest password from in tests (its value: MSIM_PASSWORD). */
export const MSIM_PASSWORD_ENV = 'RECOVER_TEST_MSIM_PASSWORD';

/** The bot's environment for a family: this process's, plus the ClearQuest password variable. */
export const msimBotEnv = (): NodeJS.ProcessEnv => ({ ...process.env, [MSIM_PASSWORD_ENV]: MSIM_PASSWORD });

/** A replica's records, sorted: what a restoration must bring back. */
export const payloadsAt = async (f: MsimFamily, replica: string): Promise<string[]> =>
  (await f.records(replica)).map((r) => r.payload).sort();

export interface MultisiteTopologyOptions {
  name?: string;
  /** Per replica: the backup its restore step reads (from `family.backup`). */
  backups?: Record<string, { file: string; manifest: string }>;
  probeTimeoutMs?: number;
  multisite?: Partial<MultisiteTopologySettings>;
}

/**
 * A multisite topology for a simulated family, validated by the real schema: each replica's host
 * is its own sshd; the database restore is the simulator's vendor tool (`msim-db restore`).
 */
export function multisiteTopology(f: MsimFamily, options: MultisiteTopologyOptions = {}): TopologyType {
  const scope =
    f.dialect === 'clearquest'
      ? {
          dialect: 'clearquest',
          family: f.family,
          clan: f.clan,
          user: 'admin',
          passwordEnv: MSIM_PASSWORD_ENV,
        }
      : { dialect: 'clearcase', vobTag: f.vob };
  return Topology.parse({
    name: options.name ?? 'msfam',
    flavour: 'multisite',
    probe: { timeoutMs: options.probeTimeoutMs ?? 5000 },
    multisite: { ...scope, reexportAfterMs: 3000, ...options.multisite },
    nodes: f.hosts.map((h) => {
      const backup = options.backups?.[h.replica];
      return {
        name: h.replica,
        host: h.sshd.hostConfig(),
        multisite: {
          binDir: h.binDir,
          bay: h.bay,
          ...(backup
            ? { restore: [`${h.binDir}/msim-db`, 'restore', backup.file], manifest: backup.manifest }
            : {}),
        },
      };
    }),
  });
}

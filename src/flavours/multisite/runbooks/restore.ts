import type { Check, Runbook, TargetSpec } from '../../../runbook/types';
import { DRIVE_SCRIPT, NO_PENDING_SCRIPT, RESTOREREPLICA_SCRIPT, RUN_SCRIPT, VERIFY_SCRIPT } from './scripts';

const on = (kind: string): TargetSpec => ({ kind });
const exit0: Check = { kind: 'exit-code', equals: 0 };
/**
 * `bash -c SCRIPT name mode args…`: the script is static text; everything else is an argument.
 * The ClearQuest password (when the topology names one) comes on stdin, never in argv.
 */
const bash = (script: string, name: string, args: string[]) => ({
  kind: 'command' as const,
  argv: ['bash', '-c', script, name, '${passwordMode}', ...args],
  stdinSecret: '${passwordEnv}',
  where: 'host' as const,
});
/** A CLI command line as a counted group (`take` in scripts.ts). */
const group = (name: string) => [`\${cli.${name}.n}`, `\${...cli.${name}}`];

/** Sibling stages, in order, as the thread's checklist shows them. */
export const SIBLING_STAGES = ['owes-ack', 'packet-delivered', 'imported', 'sibling-exported', 'acked'];

/**
 * Restoring a replica from backup (seed 002, ClearQuest MultiSite Administrator's Guide; the
 * same protocol for ClearCase VOBs): restore the database, restorereplica at once, make sure no
 * packet of the replica is still on its way, export to every sibling, and let each sibling
 * import and answer — in parallel — until the replica's import says it is unlocked.
 */
export const multisiteRestore: Runbook = {
  name: 'multisite-restore',
  flavour: 'multisite',
  title: 'Restore a MultiSite replica from backup',
  source: '002_ec055ac7239ca697.txt',
  target: 'any',
  steps: [
    {
      id: 'restore-database',
      title: 'Restore the replica database from its backup (vendor database tools)',
      target: on('needs-database-restore'),
      action: { kind: 'command', argv: ['${...restore}'], where: 'host', timeoutMs: 3_600_000 },
      risk: 'destructive',
      gate: 'restore',
    },
    {
      id: 'restorereplica',
      title:
        'restorereplica at once: lock the replica for restoration (refused if it changed since the restore)',
      target: on('needs-restorereplica'),
      action: {
        ...bash(RESTOREREPLICA_SCRIPT, 'restorereplica', [
          '${node.manifest}',
          '${replica}',
          ...group('lsepoch'),
          ...group('checkvob'),
          ...group('restorereplica'),
        ]),
        timeoutMs: 600_000,
      },
      risk: 'destructive',
      gate: 'restore',
    },
    {
      id: 'no-pending-packets',
      title: 'Step 3: no update packet from the replica still waits at any destination',
      target: on('target'),
      action: {
        kind: 'checklist',
        each: on('family'),
        title: 'No packet from the replica pending',
        probe: {
          ...bash(NO_PENDING_SCRIPT, 'no-pending', ['${R}', ...group('lspacket')]),
          timeoutMs: 30_000,
        },
        until: exit0,
        intervalMs: 1000,
        timeoutMs: 3_600_000,
      },
      risk: 'read',
    },
    {
      id: 'clear-markers',
      title: "Forget earlier restorations' acknowledgement markers in the bays",
      target: on('family'),
      action: { kind: 'command', argv: ['rm', '-f', '${marker}'], where: 'host', timeoutMs: 30_000 },
      risk: 'write',
      independent: true,
    },
    {
      id: 'export-to-siblings',
      title:
        'Step 4: export from the replica to every sibling (-fship), each packet asking for an acknowledgement',
      target: on('target'),
      // Exit 2: generated but not every packet delivered (a sibling down): the next step re-exports.
      action: {
        ...bash(RUN_SCRIPT, 'export', group('exportToSiblings')),
        timeoutMs: 600_000,
        okExitCodes: [0, 2],
      },
      risk: 'write',
    },
    {
      id: 'acknowledgements',
      title: 'Steps 5–6: each sibling imports and answers; the replica imports until it is unlocked',
      target: on('target'),
      action: {
        kind: 'checklist',
        each: on('family'),
        title: 'Restoration',
        probe: {
          ...bash(DRIVE_SCRIPT, 'drive', [
            '${role}',
            '${R}',
            '${node.bay}',
            '${reexportSeconds}',
            '${fshipSuffix}',
            '${lingerSeconds}',
            '${siblingItems}',
            ...group('lspacket'),
            ...group('import'),
            ...group('driveExport'),
            ...group('lsreplica'),
          ]),
          timeoutMs: 600_000,
        },
        until: exit0,
        intervalMs: 500,
        timeoutMs: 3_600_000,
        stages: [...SIBLING_STAGES, 'awaiting-acks', 'restored', 'unlocked'],
      },
      risk: 'write',
    },
    {
      id: 'unlock-vob',
      title: 'ClearCase: unlock the VOB (restoration is complete, the lock stays until cleartool unlock)',
      target: on('clearcase-unlock'),
      action: { kind: 'command', argv: ['${...cli.unlock}'], where: 'host', timeoutMs: 120_000 },
      risk: 'write',
    },
    {
      id: 'verify',
      title: 'Verify: lsepoch -actual at the replica shows no "fewer oplog entries" warning',
      target: on('target'),
      action: { ...bash(VERIFY_SCRIPT, 'verify', group('lsepochActual')), timeoutMs: 120_000 },
      risk: 'read',
    },
  ],
};

import type { CliIo } from './cli-server';
import { productVersion, type HostRuntime } from './host-runtime';

const NAME_WIDTH = 23; // "pendingExceptionMessage" is the longest name: `NAME<pad>: VALUE`

function statusMap(h: HostRuntime): [string, string][] {
  const r = h.replicator;
  const online = r.state === 'ONLINE';
  const master = r.role === 'master';
  const last = h.thl.last();
  const now = Date.now();
  const masterUri = master ? `thl://localhost:/` : `thl://${h.primaryName()}:2112/`;
  const applied = master ? last : undefined;
  const appliedSeqno = online ? r.appliedSeqno() : -1;
  const appliedEventId = online
    ? master
      ? (applied?.eventid ?? 'NONE')
      : (r.appliedLast?.eventId ?? 'NONE')
    : 'NONE';
  const latency = online ? (master ? 0 : (r.appliedLast?.latency ?? -1)) : -1;
  const p = r.pending;
  return [
    ['appliedLastEventId', appliedEventId],
    ['appliedLastSeqno', String(appliedSeqno)],
    ['appliedLatency', latency < 0 ? '-1.0' : latency.toFixed(3)],
    ['autoRecoveryEnabled', 'false'],
    ['autoRecoveryTotal', '0'],
    ['channels', online ? String(r.role === 'master' ? 1 : r.channels) : '-1'],
    ['clusterName', h.service],
    ['currentEventId', master && online ? (last?.eventid.replace(/;-?\d+$/, '') ?? 'NONE') : 'NONE'],
    ['currentTimeMillis', String(now)],
    ['dataServerHost', h.name],
    ['extensions', ''],
    ['host', h.name],
    ['latestEpochNumber', online ? String(master ? r.epoch : (last?.epoch ?? -1)) : '-1'],
    ['masterConnectUri', masterUri],
    ['masterListenUri', `thl://${h.name}:2112/`],
    ['maximumStoredSeqNo', online ? String(h.thl.maxSeqno()) : '-1'],
    ['minimumStoredSeqNo', online ? String(h.thl.minSeqno()) : '-1'],
    ['offlineRequests', 'NONE'],
    ['pendingError', p?.error ?? 'NONE'],
    ['pendingErrorCode', p?.code ?? 'NONE'],
    ['pendingErrorEventId', p?.eventId ?? 'NONE'],
    ['pendingErrorSeqno', String(p?.seqno ?? -1)],
    ['pendingExceptionMessage', p?.exception ?? 'NONE'],
    ['pipelineSource', master ? `jdbc:mysql:thin://127.0.0.1:${h.dbPort}/` : masterUri],
    ['relativeLatency', online ? ((now - r.stateSince) / 1000).toFixed(3) : '-1.0'],
    ['resourcePrecedence', '99'],
    ['rmiPort', '10000'],
    ['role', r.role],
    ['seqnoType', 'java.lang.Long'],
    ['serviceName', h.service],
    ['serviceType', 'local'],
    ['simpleServiceName', h.service],
    ['siteName', 'default'],
    ['sourceId', h.sourceId],
    ['state', r.state],
    ['timeInStateSeconds', ((now - r.stateSince) / 1000).toFixed(3)],
    ['timezone', 'GMT'],
    ['transitioningTo', ''],
    ['uptimeSeconds', ((now - r.startedAt) / 1000).toFixed(3)],
    ['useSSLConnection', 'false'],
    ['version', productVersion(h.thlVersion)],
  ];
}

function table(command: string, rows: [string, string][], width: number): string {
  const lines = [
    `Processing ${command} command...`,
    `${'NAME'.padEnd(width)} VALUE`,
    `${'----'.padEnd(width)} -----`,
  ];
  for (const [k, v] of rows) lines.push(`${k.padEnd(width)}: ${v}`);
  lines.push(`Finished ${command} command...`);
  return `${lines.join('\n')}\n`;
}

/** Render `trepctl status` (exported for fixture tests). */
export function renderStatus(h: HostRuntime, json: boolean): string {
  const rows = statusMap(h);
  if (json) return `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`;
  return table('status', rows, NAME_WIDTH);
}

const HELP = `Usage: trepctl [global-options] command [command-options]
Global Options:
  -host name       - Host name of replicator [default: localhost]
  -port number     - Port number of replicator [default: 10000]
  -service name    - Name of replicator service [default: none]
  -verbose         - Print verbose messages
  -retry N         - Retry connections up to N times [default: 10]
  -help|-h         - Print help
Replicator-Wide Commands:
  services         - List replication services
  version          - Show replicator version and build
Service-Specific Commands (Require -service option):
  offline          - Set replicator to OFFLINE state
  online [-skip-seqno x,y,z]
                   - Set Replicator to ONLINE with start and stop points
  qs               - Quick status
  status [-json]   - Print replicator status information
`;

/** `trepctl [-service s] status [-json] | services | online [-skip-seqno N] | offline | qs | help`. */
export async function trepctl(h: HostRuntime, argv: string[], io: CliIo): Promise<number> {
  let service: string | undefined;
  let command: string | undefined;
  let json = false;
  let skip: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-service') service = argv[++i];
    else if (a === '-host' || a === '-port' || a === '-retry') i++;
    else if (a === '-verbose') continue;
    else if (a === '-json') json = true;
    else if (a === '-skip-seqno')
      skip = String(argv[++i] ?? '')
        .split(',')
        .filter((s) => s !== '')
        .map(Number);
    else if (a === '-help' || a === '-h' || a === 'help') command = 'help';
    else if (a.startsWith('-')) {
      io.err(`Unrecognized option: ${a}\n`);
      return 1;
    } else if (!command) command = a;
  }
  if (!command || command === 'help') {
    io.out(HELP);
    return command ? 0 : 1;
  }
  if (!h.replicator.running) {
    // sim-defined: what trepctl prints when the replicator's JMX port refuses.
    io.err(
      `Connection failed: Connection refused to host: ${h.name}; nested exception is: \n\tjava.net.ConnectException: Connection refused\n`,
    );
    return 1;
  }
  if (service !== undefined && service !== h.service) {
    io.err(`Operation failed: Unknown service name: ${service}\n`);
    return 1;
  }
  const r = h.replicator;
  switch (command) {
    case 'status':
      io.out(renderStatus(h, json));
      return 0;
    case 'services': {
      const rows: [string, string][] = [
        ['appliedLastSeqno', String(r.state === 'ONLINE' ? r.appliedSeqno() : -1)],
        ['appliedLatency', r.state === 'ONLINE' ? (r.appliedLast?.latency ?? 0).toFixed(3) : '-1.0'],
        ['role', r.role],
        ['serviceName', h.service],
        ['serviceType', 'local'],
        ['started', 'true'],
        ['state', r.state],
      ];
      io.out(table('services', rows, 16));
      return 0;
    }
    case 'online':
      await r.online({ skipSeqno: skip });
      return 0;
    case 'offline':
      await r.offline();
      return 0;
    case 'qs': {
      // sim-defined wording
      const secs = ((Date.now() - r.stateSince) / 1000).toFixed(1);
      const state = r.state === 'ONLINE' ? 'Online' : r.state;
      io.out(
        `State: ${state} for ${secs}s, running for ${((Date.now() - r.startedAt) / 1000).toFixed(1)}s\n`,
      );
      if (r.state === 'ONLINE')
        io.out(
          `Latency: ${(r.appliedLast?.latency ?? 0).toFixed(3)}s, appliedLastSeqno: ${r.appliedSeqno()}\n`,
        );
      if (r.pending) io.out(`Error: ${r.pending.exception}\n`);
      return 0;
    }
    case 'version':
      io.out(`${productVersion(h.thlVersion)}\n`);
      return 0;
    default:
      io.err(`Unknown command: ${command}\n`);
      return 1;
  }
}

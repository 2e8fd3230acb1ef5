import type { CliIo } from './cli-server';
import { productVersion, type ThlVersion } from './host-runtime';
import type { Replicator } from './replicator';

export type Policy = 'AUTOMATIC' | 'MANUAL' | 'MAINTENANCE';

/** Datasource states as cctrl shows them: ONLINE, OFFLINE, SHUNNED(reason), FAILED(reason). */
export type DsState =
  | { kind: 'ONLINE' }
  | { kind: 'OFFLINE' }
  | { kind: 'SHUNNED'; reason: string }
  | { kind: 'FAILED'; reason: string };

export interface ManagedHost {
  name: string;
  replicator: Replicator;
  dbAlive(): Promise<boolean>;
}

export interface ManagerContext {
  service: string;
  version: ThlVersion;
  hosts(): ManagedHost[];
  primaryName(): string;
}

const WIDTH = 81; // sim-defined box width
const RULE = `+${'-'.repeat(WIDTH)}+`;
const boxLine = (text: string) => `|${text.padEnd(WIDTH)}|`;

/** `yyyy/MM/dd hh:mm:ss a z`, as the STATUS line prints it (UTC here). */
export function statusTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(h12)}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'} UTC`;
}

const STATUS_OF: Record<DsState['kind'], string> = {
  ONLINE: 'OK',
  OFFLINE: 'WARN',
  FAILED: 'CRITICAL',
  SHUNNED: 'SHUNNED',
};

function stateText(s: DsState): string {
  return s.kind === 'SHUNNED' || s.kind === 'FAILED' ? `${s.kind}(${s.reason})` : s.kind;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * tsim-manager: datasource states and policy for the whole service, driving the per-host
 * replicators in process. cctrl sessions reach it through its own CLI server (stoppable:
 * `faults.stopManager()`).
 */
export class Manager {
  policy: Policy = 'AUTOMATIC';
  private readonly ds = new Map<string, { state: DsState; since: number }>();
  private readonly pids = new Map<string, number>();

  constructor(private readonly ctx: ManagerContext) {
    for (const h of ctx.hosts()) {
      this.ds.set(h.name, { state: { kind: 'ONLINE' }, since: Date.now() });
      this.pids.set(h.name, 10000 + Math.floor(Math.random() * 20000));
    }
  }

  state(host: string): DsState {
    return this.ds.get(host)?.state ?? { kind: 'ONLINE' };
  }

  setState(host: string, state: DsState): void {
    this.ds.set(host, { state, since: Date.now() });
  }

  private host(name: string): ManagedHost | undefined {
    return this.ctx.hosts().find((h) => h.name === name);
  }

  /** A datasource whose database stopped answering is FAILED (unless shunned): checked when looked at. */
  private async refresh(h: ManagedHost): Promise<boolean> {
    const alive = await h.dbAlive();
    const s = this.state(h.name);
    if (!alive && (s.kind === 'ONLINE' || s.kind === 'OFFLINE'))
      this.setState(h.name, { kind: 'FAILED', reason: `DATASERVER '${h.name}@${this.ctx.service}' STOPPED` });
    // AUTOMATIC policy brings an OFFLINE datasource back ONLINE (after 1 s: sim-defined delay).
    const entry = this.ds.get(h.name);
    if (
      alive &&
      this.policy === 'AUTOMATIC' &&
      entry?.state.kind === 'OFFLINE' &&
      Date.now() - entry.since > 1000
    )
      this.setState(h.name, { kind: 'ONLINE' });
    return alive;
  }

  async renderLs(only?: string): Promise<string> {
    const primary = this.ctx.primaryName();
    const hosts = this.ctx.hosts().filter((h) => !only || h.name === only);
    const lines = [
      `COORDINATOR[${this.ctx.hosts()[0]?.name ?? primary}:${this.policy}:ONLINE]`,
      '',
      'ROUTERS:',
      RULE,
    ];
    for (const h of this.ctx.hosts())
      lines.push(boxLine(`connector@${h.name}[${this.pids.get(h.name)}](ONLINE, created=0, active=0)`));
    lines.push(RULE, '', 'DATASOURCES:');
    for (const h of hosts) {
      const alive = await this.refresh(h);
      const entry = this.ds.get(h.name) ?? { state: { kind: 'ONLINE' } as DsState, since: Date.now() };
      const r = h.replicator;
      const isMaster = h.name === primary;
      const role = isMaster ? 'master' : 'slave';
      const healthy = r.running && r.state === 'ONLINE';
      const progress = healthy ? r.appliedSeqno() : -1;
      const latency = healthy ? (isMaster ? 0 : (r.appliedLast?.latency ?? 0)) : -1;
      const lat = isMaster ? `THL latency=${latency.toFixed(3)}` : `latency=${latency.toFixed(3)}`;
      lines.push(RULE);
      lines.push(boxLine(`${h.name}(${role}:${stateText(entry.state)}, progress=${progress}, ${lat})`));
      lines.push(boxLine(`STATUS [${STATUS_OF[entry.state.kind]}] [${statusTime(entry.since)}]`));
      if (entry.state.kind === 'FAILED') lines.push(boxLine(`REASON[${entry.state.reason}]`));
      lines.push(RULE);
      lines.push(boxLine('  MANAGER(state=ONLINE)'));
      const rstate = r.running ? r.state : 'SUSPECT';
      lines.push(
        boxLine(
          isMaster
            ? `  REPLICATOR(role=master, state=${rstate})`
            : `  REPLICATOR(role=slave, master=${r.masterHost ?? primary}, state=${rstate})`,
        ),
      );
      lines.push(boxLine(`  DATASERVER(state=${alive ? 'ONLINE' : 'STOPPED'})`));
      lines.push(boxLine('  CONNECTIONS(created=0, active=0)'));
      lines.push(RULE, '');
    }
    return `${lines.join('\n')}\n`;
  }

  private async recover(name: string, io: CliIo): Promise<void> {
    const svc = this.ctx.service;
    const h = this.host(name);
    if (!h) return io.out(`DataSource '${name}' does not exist\n`);
    await this.refresh(h);
    const s = this.state(name);
    if (s.kind !== 'FAILED' && s.kind !== 'SHUNNED')
      return io.out(`DataSource '${name}' is not FAILED or SHUNNED and cannot be recovered.\n`);
    const primary = this.ctx.primaryName();
    io.out(`VERIFYING THAT WE CAN CONNECT TO DATA SERVER '${name}'\n`);
    if (!(await h.dbAlive())) {
      this.setState(name, { kind: 'FAILED', reason: `DATASERVER '${name}@${svc}' STOPPED` });
      io.out(`DATA SERVER '${name}' IS NOT AVAILABLE FOR CONNECTIONS\n`); // sim-defined
      io.out(`RECOVERY OF '${name}@${svc}' FAILED\n`); // sim-defined
      return;
    }
    io.out(`DATA SERVER '${name}' IS NOW AVAILABLE FOR CONNECTIONS\n`);
    io.out(`RECOVERING '${name}@${svc}' TO A SLAVE USING '${primary}@${svc}' AS THE MASTER\n`);
    const r = h.replicator;
    if (!r.running) r.boot();
    if (!r.state.startsWith('OFFLINE')) await r.offline();
    r.role = 'slave';
    await r.online();
    // Wait for the handshake to settle: ONLINE or OFFLINE:ERROR.
    for (let i = 0; i < 100 && r.state === 'GOING-ONLINE:SYNCHRONIZING'; i++) await sleep(50);
    if (r.state !== 'ONLINE') {
      io.out(`RECOVERY OF '${name}@${svc}' FAILED\n`); // sim-defined
      return;
    }
    if (this.policy === 'MAINTENANCE') {
      this.setState(name, { kind: 'OFFLINE' });
      io.out(`DataSource '${name}' is now OFFLINE\n`);
    } else this.setState(name, { kind: 'ONLINE' });
    io.out(`RECOVERY OF '${name}@${svc}' WAS SUCCESSFUL\n`);
  }

  /** One cctrl command line; returns false on exit/quit. */
  async command(line: string, expert: boolean, io: CliIo): Promise<boolean> {
    const words = line
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    if (words.length === 0) return true;
    const [cmd = '', a1, a2] = words;
    const lower = cmd.toLowerCase();
    if (lower === 'exit' || lower === 'quit') return false;
    if (lower === 'ls') {
      io.out(await this.renderLs(a1));
      return true;
    }
    if (lower === 'set' && a1 === 'policy' && a2) {
      const p = a2.toUpperCase();
      if (p !== 'AUTOMATIC' && p !== 'MANUAL' && p !== 'MAINTENANCE') {
        io.out(`ERROR: unknown policy mode '${a2}'\n`);
        return true;
      }
      this.policy = p;
      io.out(`policy mode is now ${p}\n`);
      return true;
    }
    if (lower === 'recover' && !a1) {
      const todo = this.ctx.hosts().filter((h) => ['FAILED', 'SHUNNED'].includes(this.state(h.name).kind));
      if (todo.length === 0) io.out('NO DATASOURCES NEEDED RECOVERY\n'); // sim-defined
      for (const h of todo) await this.recover(h.name, io);
      return true;
    }
    if (lower === 'datasource' && a1 && a2) {
      const h = this.host(a1);
      if (!h) {
        io.out(`DataSource '${a1}' does not exist\n`);
        return true;
      }
      switch (a2.toLowerCase()) {
        case 'shun':
          if (a1 === this.ctx.primaryName() && !expert) {
            io.out(`ERROR: the master datasource '${a1}' cannot be shunned outside expert mode\n`); // sim-defined
            return true;
          }
          this.setState(a1, { kind: 'SHUNNED', reason: 'MANUALLY-SHUNNED' });
          io.out(`DataSource '${a1}' set to SHUNNED\n`);
          return true;
        case 'recover':
          await this.recover(a1, io);
          return true;
        case 'online':
        case 'offline': {
          const s = this.state(a1).kind;
          if (s === 'SHUNNED' || s === 'FAILED') {
            io.out(`DataSource '${a1}' is ${s}: use 'datasource ${a1} recover'\n`); // sim-defined
            return true;
          }
          const kind = a2.toLowerCase() === 'online' ? 'ONLINE' : 'OFFLINE';
          this.setState(a1, { kind });
          io.out(`DataSource '${a1}' is now ${kind}\n`);
          return true;
        }
        default:
          break;
      }
    }
    if (lower === 'replicator' && a1 && a2) {
      const h = this.host(a1);
      if (!h) {
        io.out(`Replicator '${a1}' does not exist\n`);
        return true;
      }
      if (!expert && a2 !== 'status') {
        io.out('ERROR: this command can only be run in expert mode (cctrl -expert)\n'); // sim-defined
        return true;
      }
      if (!h.replicator.running) {
        io.out(`ERROR: Replicator '${a1}' is not reachable\n`); // sim-defined
        return true;
      }
      if (a2 === 'offline') {
        await h.replicator.offline();
        io.out(`Replicator '${a1}' is now OFFLINE\n`);
        return true;
      }
      if (a2 === 'online') {
        await h.replicator.online();
        for (let i = 0; i < 60 && h.replicator.state === 'GOING-ONLINE:SYNCHRONIZING'; i++) await sleep(50);
        io.out(
          `Replicator '${a1}' is now ${h.replicator.state === 'ONLINE' ? 'ONLINE' : h.replicator.state}\n`,
        );
        return true;
      }
      if (a2 === 'status') {
        io.out(`Replicator '${a1}' state=${h.replicator.state} role=${h.replicator.role}\n`);
        return true;
      }
    }
    if (lower === 'help') {
      io.out(
        'Commands: ls, datasource <host> shun|recover|online|offline, replicator <host> online|offline, set policy automatic|manual|maintenance, recover, exit\n',
      );
      return true;
    }
    io.out(`ERROR: UNRECOGNIZED COMMAND: ${line.trim()}\n`); // sim-defined
    return true;
  }

  /** `cctrl [-expert]`: a banner, then one prompt per stdin line (echoed after the prompt). */
  async cctrl(argv: string[], io: CliIo): Promise<number> {
    const expert = argv.includes('-expert');
    const prompt = `[LOGICAL${expert ? ':EXPERT' : ''}] /${this.ctx.service} > `;
    io.out(`${productVersion(this.ctx.version)}\n`);
    io.out(`${this.ctx.service}: session established, encryption=false, authentication=false\n`);
    for (;;) {
      io.out(prompt);
      const line = await io.readLine();
      if (line === undefined) {
        io.out('\n');
        return 0;
      }
      io.out(`${line}\n`);
      if (!(await this.command(line, expert, io))) return 0;
    }
  }
}

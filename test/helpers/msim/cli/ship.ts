import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { takeFault } from './faults';
import type { HostConfig, SiblingAddress } from './host-config';
import { SHIPPING_ORDER_PREFIX } from './packet';

export interface ShipResult {
  ok: boolean;
  reason?: string;
}

/** ssh to a sibling as the shipping user, non-interactive, failing within seconds when it is down. */
export function sshArgs(config: HostConfig, s: SiblingAddress): string[] {
  return [
    '-i',
    config.ship.keyPath,
    '-p',
    String(s.port),
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${config.ship.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    `${config.ship.user}@${s.host}`,
  ];
}

/** sim-defined shipping order: one `KEY value` per line. */
export function shippingOrderText(packetPath: string, dest: string): string {
  return `# msim shipping order\nPACKET ${packetPath}\nDESTINATION ${dest}\n`;
}

export function readShippingOrder(path: string): { packet: string; dest: string } | undefined {
  const text = readFileSync(path, 'utf8');
  const packet = /^PACKET (.+)$/m.exec(text)?.[1];
  const dest = /^DESTINATION (.+)$/m.exec(text)?.[1];
  return packet && dest ? { packet, dest } : undefined;
}

/**
 * Deliver one packet to a sibling over its real sshd: ssh runs the sibling's shipping_server
 * -receive with the packet on stdin. On success the packet and its shipping order leave the
 * outgoing bay; on failure both stay there for a later shipping_server -poll.
 */
export async function ship(config: HostConfig, packetPath: string, dest: string): Promise<ShipResult> {
  const sibling = config.siblings[dest];
  if (!sibling) return { ok: false, reason: `no route to replica "${dest}"` };
  if (config.transitDelayMs > 0) await new Promise((r) => setTimeout(r, config.transitDelayMs));
  const body = readFileSync(packetPath);
  const result = await new Promise<ShipResult>((resolve) => {
    const child = spawn(
      'ssh',
      [...sshArgs(config, sibling), `${sibling.binDir}/shipping_server`, '-receive', basename(packetPath)],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined); // the far end may be gone; the exit code says so
    child.stdin.end(body);
    child.on('error', (err) => resolve({ ok: false, reason: err.message }));
    child.on('exit', (code) =>
      resolve(
        code === 0
          ? { ok: true }
          : { ok: false, reason: stderr.trim().split('\n').pop() || `ssh exit ${code}` },
      ),
    );
  });
  if (result.ok) {
    rmSync(packetPath, { force: true });
    rmSync(join(config.bay, 'outgoing', SHIPPING_ORDER_PREFIX + basename(packetPath)), { force: true });
  }
  return result;
}

/** Every shipping order in the outgoing bay (shipping_server -poll). */
export function pendingOrders(config: HostConfig): { order: string; packet: string; dest: string }[] {
  const dir = join(config.bay, 'outgoing');
  const out: { order: string; packet: string; dest: string }[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith(SHIPPING_ORDER_PREFIX)) continue;
    const order = readShippingOrder(join(dir, name));
    if (order) out.push({ order: join(dir, name), ...order });
  }
  return out;
}

function place(incoming: string, name: string, body: Buffer, mtime?: Date): void {
  const part = join(incoming, `.${name}.part`);
  writeFileSync(part, body);
  if (mtime) utimesSync(part, mtime, mtime);
  renameSync(part, join(incoming, name));
}

/**
 * The receiving end (runs on the destination host): write the packet into the incoming bay
 * atomically, applying this host's next fault (drop, truncate, duplicate, reorder, delay).
 */
export async function receive(config: HostConfig, name: string, body: Buffer): Promise<void> {
  if (!/^sync_[\w.-]+$/.test(name)) throw new Error(`not a packet name: ${name}`);
  const incoming = join(config.bay, 'incoming');
  const held = join(config.bay, 'held');
  const fault = takeFault(config.faultsFile, ['drop', 'truncate', 'duplicate', 'reorder', 'delay']);
  if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
  if (fault?.kind === 'drop') return; // lost in transit: the sender believes it delivered
  if (fault?.kind === 'reorder') {
    mkdirSync(held, { recursive: true });
    writeFileSync(join(held, name), body); // released after the next packet lands
    return;
  }
  // The tail is lost (an interrupted transfer): the header survives, the checksum does not.
  if (fault?.kind === 'truncate') body = body.subarray(0, body.length - 40);
  place(incoming, name, body);
  if (fault?.kind === 'duplicate') place(incoming, `${name}_dup`, body, new Date(Date.now() + 1000));
  let heldNames: string[] = [];
  try {
    heldNames = readdirSync(held);
  } catch {
    // nothing held
  }
  for (const h of heldNames) {
    place(incoming, h, readFileSync(join(held, h)), new Date(Date.now() + 1000));
    rmSync(join(held, h));
  }
}

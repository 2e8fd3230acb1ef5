import { createHash, createHmac } from 'node:crypto';
import type { ConnectConfig } from 'ssh2';

/** known_hosts parsing and matching: the only source of trust for a host's key. */
export interface KnownKey {
  type: string;
  blob: Buffer;
  revoked: boolean;
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name a host has in known_hosts: bare on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Keys known_hosts lists for one host name: plain, comma lists, wildcards, hashed `|1|` entries, @revoked. */
export function knownHostKeys(text: string, name: string): KnownKey[] {
  const keys: KnownKey[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    const [hosts, type, base64] = fields;
    if (marker === '@cert-authority' || !hosts || !type || !base64) continue;
    if (hostMatches(hosts, name.toLowerCase())) {
      keys.push({ type, blob: Buffer.from(base64, 'base64'), revoked: marker === '@revoked' });
    }
  }
  return keys;
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt = '', hash] = field.split('|');
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    const glob = (negated ? pattern.slice(1) : pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&');
    if (!new RegExp(`^${glob.replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

export function keyType(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : 'unknown';
}

const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Offer only the algorithms known_hosts has keys for, so a host with several keys shows a known one. */
export function hostKeyAlgorithms(keys: KnownKey[]): NonNullable<ConnectConfig['algorithms']> {
  const names = keys.filter((k) => !k.revoked).flatMap((k) => HOST_KEY_ALGORITHMS[k.type] ?? []);
  return names.length > 0 ? { serverHostKey: [...new Set(names)] as never } : {};
}

/**
 * Runs argv on one host over SSH: one connection, opened on first use and shared until close()
 * (or until it drops; the next command then reconnects).
 */

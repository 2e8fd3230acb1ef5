import { posix } from 'node:path';
import type { SqlNode } from '../config/topology';
import { sha256, temporaryName, type FileHost } from './file-host';

export class KeyFileError extends Error {
  readonly code = 'KEY_FILE';
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** Database and user names become a file name: nothing that could climb out of etc/keys. */
const SAFE_PART = /^[A-Za-z0-9_$-][A-Za-z0-9_.$-]*$/;

/** `<CoreMediaHome>/etc/keys/<databasename>.<dbuser>.rijndael`, with the node's own database and user. */
export function keyFilePath(node: SqlNode): string {
  if (!node.coremediaHome) throw new KeyFileError(`node ${node.name} has no coremediaHome configured`);
  for (const part of [node.db.database, node.db.user])
    if (!SAFE_PART.test(part) || part.includes('..'))
      throw new KeyFileError(`"${part}" of node ${node.name} cannot be part of a key file name`);
  return posix.join(node.coremediaHome, 'etc', 'keys', `${node.db.database}.${node.db.user}.rijndael`);
}

export interface KeyCopyResult {
  ok: boolean;
  /** Nothing to copy: the source has no key file (passwords not encrypted). */
  skipped: boolean;
  source: string;
  target: string;
  bytes: number;
  sha256: string | null;
  note: string;
}

/**
 * Seed 000 step 3 / seed 001 step 4: copy the Rijndael key to the target, renamed to the target's
 * own database and user, directory created when missing, mode 0600, written to a temporary name,
 * checksum verified, then renamed into place. A source without a key file is skipped with a note.
 */
export async function copyKeyFile(
  source: { node: SqlNode; files: FileHost },
  target: { node: SqlNode; files: FileHost },
): Promise<KeyCopyResult> {
  const from = keyFilePath(source.node);
  const to = keyFilePath(target.node);
  const data = await source.files.read(from);
  if (!data)
    return {
      ok: true,
      skipped: true,
      source: from,
      target: to,
      bytes: 0,
      sha256: null,
      note: `no key file at ${from} on ${source.node.name}: passwords are not encrypted there, nothing to copy`,
    };
  const digest = sha256(data);
  await target.files.ensureDir(posix.dirname(to), 0o700);
  const temporary = temporaryName(to);
  try {
    await target.files.write(temporary, data, 0o600);
    const written = await target.files.read(temporary);
    if (!written || sha256(written) !== digest)
      throw new KeyFileError(
        `checksum mismatch after writing ${temporary} on ${target.node.name}: the copy was discarded`,
      );
    await target.files.rename(temporary, to);
  } catch (err) {
    await target.files.remove(temporary).catch(() => undefined);
    throw err;
  }
  return {
    ok: true,
    skipped: false,
    source: from,
    target: to,
    bytes: data.length,
    sha256: digest,
    note: `copied ${data.length} bytes (sha256 ${digest.slice(0, 12)}) from ${source.node.name} to ${target.node.name}`,
  };
}

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';

/** The few file operations a key-file copy needs, on the bot host or over SFTP. */
export interface FileHost {
  /** The file's bytes, or null when it does not exist. Other errors (permissions) throw. */
  read(path: string): Promise<Buffer | null>;
  /** Create the directory (and parents) with this mode when missing. */
  ensureDir(path: string, mode: number): Promise<void>;
  write(path: string, data: Buffer, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const localFiles: FileHost = {
  async read(path) {
    try {
      return await fs.readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  },
  async ensureDir(path, mode) {
    await fs.mkdir(path, { recursive: true, mode });
  },
  async write(path, data, mode) {
    await fs.writeFile(path, data, { mode, flag: 'wx' });
    await fs.chmod(path, mode); // the umask must not widen or narrow what we ask for
  },
  rename: (from, to) => fs.rename(from, to),
  async remove(path) {
    await fs.rm(path, { force: true });
  },
};

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A sibling temporary name: written first, verified, then renamed into place. */
export function temporaryName(path: string): string {
  return `${dirname(path)}/.recover-${randomBytes(6).toString('hex')}.tmp`;
}

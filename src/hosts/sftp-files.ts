import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import type { FileHost } from './file-host';

// SFTP status codes (draft-ietf-secsh-filexfer): 2 no such file, 4 failure (mkdir on an existing dir).
const NO_SUCH_FILE = 2;

const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

const codeOf = (err: unknown) => (err as { code?: number }).code;

/** The key-file copy's file operations on a node reached over SSH. */
export function sftpFiles(sftp: SFTPWrapper): FileHost {
  const exists = (path: string) =>
    call<unknown>((cb) => sftp.stat(path, cb)).then(
      () => true,
      (err: unknown) => {
        if (codeOf(err) === NO_SUCH_FILE) return false;
        throw err;
      },
    );
  return {
    async read(path) {
      try {
        return await call<Buffer>((cb) => sftp.readFile(path, cb));
      } catch (err) {
        if (codeOf(err) === NO_SUCH_FILE) return null;
        throw err;
      }
    },
    async ensureDir(path, mode) {
      const missing: string[] = [];
      for (let dir = path; dir !== '/' && !(await exists(dir)); dir = posix.dirname(dir))
        missing.unshift(dir);
      for (const dir of missing) await call<void>((cb) => sftp.mkdir(dir, { mode }, cb));
    },
    async write(path, data, mode) {
      await call<void>((cb) => sftp.writeFile(path, data, { mode, flag: 'wx' }, cb));
      await call<void>((cb) => sftp.chmod(path, mode, cb)); // the remote umask must not change the mode
    },
    // Plain SFTP rename refuses to replace a file; OpenSSH's extension replaces it atomically.
    rename: (from, to) => call<void>((cb) => sftp.ext_openssh_rename(from, to, cb)),
    async remove(path) {
      await call<void>((cb) => sftp.unlink(path, cb)).catch((err: unknown) => {
        if (codeOf(err) !== NO_SUCH_FILE) throw err;
      });
    },
  };
}

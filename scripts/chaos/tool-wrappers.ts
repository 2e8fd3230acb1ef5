import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTools } from '../../src/restore/commands';

/**
 * The restore side of dump→restore (pg_restore, mariadb) wrapped so that every invocation logs
 * `<epoch ms> <pid> <argv…>` before it execs the real client (same pid). Workers get this
 * directory first in PATH, so the engine finds the wrappers; passwords are in the environment,
 * never in argv, so nothing secret is logged. This is how MariaDB restores are counted, and how
 * the human knows a restore may still be running on a node (its pid is alive).
 */
export interface RestoreInvocation {
  at: number;
  pid: number;
  tool: string;
  database: string;
}

export interface ToolWrappers {
  dir: string;
  invocations(): RestoreInvocation[];
  /** Any restore into this database whose process is still alive. */
  restoring(database: string): boolean;
}

export function createToolWrappers(dir: string): ToolWrappers {
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'restore.log');
  const real = {
    pg_restore: resolveTools('postgres', process.env.PATH).restore,
    mariadb: resolveTools('mysql', process.env.PATH).restore,
  };
  for (const [name, path] of Object.entries(real)) {
    const file = join(dir, name);
    writeFileSync(
      file,
      `#!/bin/bash\necho "$(date +%s%3N) $$ ${name} $*" >> '${log}'\nexec '${path}' "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
  const invocations = (): RestoreInvocation[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          // The MariaDB client that empties the target before an import runs with --batch: not a restore.
          .filter((line) => !line.split(' ').includes('--batch'))
          .map((line) => {
            const [at, pid, tool, ...args] = line.split(' ');
            const d = args.indexOf('-d');
            return {
              at: Number(at),
              pid: Number(pid),
              tool: tool!,
              database: (d >= 0 ? args[d + 1] : args[args.length - 1]) ?? '',
            };
          })
      : [];
  return {
    dir,
    invocations,
    restoring: (database) =>
      invocations().some((i) => {
        if (i.database !== database) return false;
        // The pid alone could have been reused by now: it must still be that client.
        try {
          return readFileSync(`/proc/${i.pid}/cmdline`, 'utf8').includes(i.tool);
        } catch {
          return false;
        }
      }),
  };
}

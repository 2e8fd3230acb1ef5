import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/**
 * A client process must die with the worker: a restore left running after a SIGKILL of the bot
 * would go on writing into the target while the run is declared unknown (and a retry starts).
 * Pipes alone do not do it: a restore whose stdin closes takes that for the end of the dump, and
 * mariadb commits what it read. util-linux's `setpriv --pdeathsig KILL` sets the kernel's
 * parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the tool, same pid, so the tool is
 * killed the moment the worker dies. Absent setpriv (not Linux), argv runs as is.
 */
const cache = new Map<string, string | null>();

function findSetpriv(pathEnv: string | undefined): string | null {
  const key = pathEnv ?? '';
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let found: string | null = null;
  const dirs = [...(pathEnv ?? '').split(':'), '/usr/bin', '/bin'].filter((d) => d.startsWith('/'));
  for (const dir of dirs) {
    const file = join(dir, 'setpriv');
    try {
      accessSync(file, constants.X_OK);
      // Older util-linux (< 2.33) has setpriv without --pdeathsig.
      execFileSync(file, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
      found = file;
      break;
    } catch {
      // not here, or too old
    }
  }
  cache.set(key, found);
  return found;
}

/** argv prefixed so that the process gets SIGKILL when its parent (this worker) dies. */
export function tiedToParent(argv: readonly string[], pathEnv: string | undefined): string[] {
  const setpriv = findSetpriv(pathEnv);
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...argv] : [...argv];
}

/** The same for a remote sh script: `setpriv … --` when the host has it (sshd is the parent there). */
export const REMOTE_TIE =
  'if setpriv --pdeathsig KILL -- true >/dev/null 2>&1; then tie="setpriv --pdeathsig KILL --"; else tie=; fi; ';

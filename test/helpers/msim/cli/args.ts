import type { HostConfig } from './host-config';
import { MsimError } from './store';

/** [full name, shortest accepted abbreviation, takes a value]: the docs' `–fam/ily` notation. */
const FLAGS: [string, string, boolean][] = [
  ['family', 'fam', true],
  ['clan', 'cl', true],
  ['site', 'site', true],
  ['user', 'u', true],
  ['password', 'p', true],
  ['invob', 'invob', true],
  ['workdir', 'workdir', true],
  ['out', 'out', true],
  ['maxsize', 'maxsize', true],
  ['sclass', 'sclass', true],
  ['comment', 'c', true],
  ['long', 'l', false],
  ['short', 's', false],
  ['actual', 'actual', false],
  ['export', 'export', false],
  ['import', 'import', false],
  ['receive', 'receive', false],
  ['fship', 'fship', false],
  ['ship', 'ship', false],
  ['replace', 'replace', false],
  ['force', 'force', false],
  ['override', 'override', false],
  ['completed', 'completed', false],
  ['poll', 'poll', false],
  ['nc', 'nc', false],
];

export interface Args {
  flags: Record<string, string | true>;
  positionals: string[];
}

export function parseArgs(argv: string[]): Args {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = (argv[i] ?? '').replace(/^[\u2013\u2014]/, '-');
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const word = token.slice(1);
    const flag = FLAGS.find(
      ([full, min]) => word.length >= min.length && full.startsWith(word) && word.startsWith(min),
    );
    if (!flag) throw new MsimError('usage', `Unrecognized option "${token}"`);
    const [full, , takesValue] = flag;
    if (takesValue) {
      const value = argv[++i];
      if (value === undefined) throw new MsimError('usage', `Option "-${full}" requires an argument`);
      flags[full] = value;
    } else flags[full] = true;
  }
  return { flags, positionals };
}

/** `paris`, `paris@/vobs/sampl` or `replica:paris@/vobs/sampl` → `paris`, checking the VOB tag. */
export function replicaName(selector: string, config: HostConfig): string {
  const bare = selector.replace(/^replica:/, '');
  const at = bare.indexOf('@');
  if (at < 0) return bare;
  const vob = bare.slice(at + 1);
  if (vob !== config.vob) throw new MsimError('no-vob', `Unable to find VOB "${vob}"`);
  return bare.slice(0, at);
}

/** Checks the family / clan / site (CQ) or -invob (CC) options name this host's replica. */
export function checkScope(args: Args, config: HostConfig): void {
  const { family, clan, site, invob } = args.flags;
  if (typeof family === 'string' && family !== config.family)
    throw new MsimError('no-family', `Family "${family}" is not replicated at this site`);
  if (typeof clan === 'string' && clan !== config.clan)
    throw new MsimError('no-clan', `Clan "${clan}" is not registered on this host`);
  if (typeof site === 'string' && site !== config.replica)
    throw new MsimError('no-site', `Site "${site}" is not on this host`);
  if (typeof invob === 'string' && invob !== config.vob)
    throw new MsimError('no-vob', `Unable to find VOB "${invob}"`);
}

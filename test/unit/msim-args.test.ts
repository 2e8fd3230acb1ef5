import { checkScope, parseArgs, replicaName } from '../helpers/msim/cli/args';
import type { HostConfig } from '../helpers/msim/cli/host-config';

const config = { family: 'SAMPL', clan: 'CLAN1', replica: 'boston', vob: '/vobs/sampl' } as HostConfig;

it("accepts the docs' abbreviations (–fam/ily, –u/ser, –p/assword, –l/ong) and an en dash", () => {
  const args = parseArgs([
    '-fam',
    'SAMPL',
    '-u',
    'admin',
    '-p',
    '-secret-',
    '\u2013l',
    '-fship',
    'paris',
    'tokyo',
  ]);
  expect(args.flags).toEqual({
    family: 'SAMPL',
    user: 'admin',
    password: '-secret-',
    long: true,
    fship: true,
  });
  expect(args.positionals).toEqual(['paris', 'tokyo']);
});

it('refuses an unknown option without echoing any value', () => {
  expect(() => parseArgs(['-password', 'hunter2', '-bogus'])).toThrow('Unrecognized option "-bogus"');
  expect(() => parseArgs(['-password'])).toThrow('Option "-password" requires an argument');
});

it('checks the scope against the host and reads ClearCase replica selectors', () => {
  expect(() => checkScope(parseArgs(['-family', 'OTHER']), config)).toThrow(
    'Family "OTHER" is not replicated at this site',
  );
  expect(() => checkScope(parseArgs(['-invob', '/vobs/x']), config)).toThrow('Unable to find VOB "/vobs/x"');
  expect(() => checkScope(parseArgs(['-family', 'SAMPL', '-site', 'boston']), config)).not.toThrow();
  expect(replicaName('replica:paris@/vobs/sampl', config)).toBe('paris');
  expect(() => replicaName('paris@/vobs/other', config)).toThrow('Unable to find VOB "/vobs/other"');
});

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlNodeConfig } from '../../src/config/topology';
import { localFiles } from '../../src/hosts/file-host';
import { copyKeyFile, KeyFileError, keyFilePath } from '../../src/hosts/key-file';

const node = (name: string, home: string, database: string, user: string) =>
  SqlNodeConfig.parse({
    name,
    coremediaHome: home,
    db: { engine: 'postgres', host: 'h', port: 5432, database, user },
  });

function homes() {
  const root = mkdtempSync(join(tmpdir(), 'recover-keys-'));
  return { slave: join(root, 'slave'), master: join(root, 'master') };
}

describe('copyKeyFile', () => {
  it('copies the key renamed to the target database and user, 0600, directory created', async () => {
    const h = homes();
    const source = node('rls-1', h.slave, 'cm_rls1', 'cmslave');
    const target = node('mls', h.master, 'cm_mls', 'cmmaster');
    mkdirSync(join(h.slave, 'etc', 'keys'), { recursive: true });
    writeFileSync(keyFilePath(source), Buffer.from('rijndael-key-bytes-0123456789abcdef'));

    const r = await copyKeyFile({ node: source, files: localFiles }, { node: target, files: localFiles });
    expect(r).toMatchObject({
      ok: true,
      skipped: false,
      bytes: 35,
      target: join(h.master, 'etc', 'keys', 'cm_mls.cmmaster.rijndael'),
    });
    expect(readFileSync(r.target, 'utf8')).toBe('rijndael-key-bytes-0123456789abcdef');
    expect(statSync(r.target).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.master, 'etc', 'keys')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(h.master, 'etc', 'keys'))).toEqual(['cm_mls.cmmaster.rijndael']); // no temporary left
  });

  it('replaces an existing key in place', async () => {
    const h = homes();
    const source = node('rls-1', h.slave, 'cm', 'a');
    const target = node('rls-2', h.master, 'cm', 'b');
    mkdirSync(join(h.slave, 'etc', 'keys'), { recursive: true });
    mkdirSync(join(h.master, 'etc', 'keys'), { recursive: true });
    writeFileSync(keyFilePath(source), 'new');
    writeFileSync(keyFilePath(target), 'old');
    await copyKeyFile({ node: source, files: localFiles }, { node: target, files: localFiles });
    expect(readFileSync(keyFilePath(target), 'utf8')).toBe('new');
  });

  it('skips with a note when the source has no key file (passwords not encrypted)', async () => {
    const h = homes();
    const r = await copyKeyFile(
      { node: node('rls-1', h.slave, 'cm', 'a'), files: localFiles },
      { node: node('mls', h.master, 'cm', 'b'), files: localFiles },
    );
    expect(r).toMatchObject({ ok: true, skipped: true, bytes: 0 });
    expect(r.note).toMatch(/no key file at .* nothing to copy/);
  });

  it('fails clearly when the source key cannot be read, and writes nothing', async () => {
    const h = homes();
    const source = node('rls-1', h.slave, 'cm', 'a');
    mkdirSync(keyFilePath(source), { recursive: true }); // a directory where the file should be: unreadable as a file
    await expect(
      copyKeyFile(
        { node: source, files: localFiles },
        { node: node('mls', h.master, 'cm', 'b'), files: localFiles },
      ),
    ).rejects.toThrow(/EISDIR/);
    expect(() => readdirSync(join(h.master, 'etc', 'keys'))).toThrow(/ENOENT/);
  });

  it('refuses names that would leave etc/keys', () => {
    expect(() => keyFilePath(node('x', '/opt/cm', 'cm', '../../etc/passwd'))).toThrow(KeyFileError);
    expect(() =>
      keyFilePath(
        SqlNodeConfig.parse({
          name: 'x',
          db: { engine: 'mysql', host: 'h', port: 1, database: 'd', user: 'u' },
        }),
      ),
    ).toThrow(/no coremediaHome/);
  });
});

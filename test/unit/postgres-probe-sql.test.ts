import { parseConninfo, redactConninfo } from '../../src/flavours/postgres-streaming/probe-sql';

describe('primary_conninfo handling', () => {
  it('parses what pg_basebackup -R writes (quoted values included)', () => {
    const written =
      "user=recover-test passfile='/var/lib/recover-test/.pgpass' channel_binding=prefer host=127.0.0.1 port=41234 sslmode=prefer";
    expect(parseConninfo(written)).toMatchObject({
      user: 'recover-test',
      passfile: '/var/lib/recover-test/.pgpass',
      host: '127.0.0.1',
      port: '41234',
    });
    expect(parseConninfo("application_name='a b\\'c'")).toEqual({ application_name: "a b'c" });
    expect(parseConninfo('')).toEqual({});
    expect(parseConninfo(null)).toEqual({});
  });

  it('never lets a password reach the report', () => {
    expect(redactConninfo('host=h password=s3cret port=5432')).toBe('host=h password=[redacted] port=5432');
    expect(redactConninfo("host=h password='a b' user=u")).toBe('host=h password=[redacted] user=u');
    expect(redactConninfo(null)).toBeNull();
  });
});

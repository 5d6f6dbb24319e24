// The built-in parsers on real log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParserSet } from '../../../core/parsers/registry.js';

const set = new ParserSet();
const parse = (name: string, line: string) => set.get(name)!.parse(line);
const ns = (iso: string, frac = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + frac;

test('nginx access line (combined format)', () => {
  const r = parse(
    'nginx',
    '93.184.216.34 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.1" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
  );
  assert.deepEqual(r?.fields, {
    remote: '93.184.216.34',
    host: '-',
    user: 'frank',
    method: 'GET',
    path: '/apache_pb.gif?a=1',
    code: 200,
    size: 2326,
    referer: 'http://www.example.com/start.html',
    agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
  });
  assert.equal(r?.time, ns('2000-10-10T20:55:36Z'));
  assert.equal(parse('nginx', 'GET / 200'), undefined);
});

test('apache common and combined lines', () => {
  const c = parse('apache', '127.0.0.1 - - [05/Dec/2026:02:07:22 +0000] "POST /login HTTP/1.0" 302 -');
  assert.deepEqual(c?.fields, { host: '127.0.0.1', user: '-', method: 'POST', path: '/login', code: 302, size: '-' });
  const d = parse('apache', '10.0.0.2 - bob [05/Dec/2026:02:07:22 +0100] "GET /x HTTP/1.1" 404 12 "-" "curl/8.5.0"');
  assert.deepEqual(d?.fields, { host: '10.0.0.2', user: 'bob', method: 'GET', path: '/x', code: 404, size: 12, referer: '-', agent: 'curl/8.5.0' });
  assert.equal(d?.time, ns('2026-12-05T01:07:22Z'));
});

test('syslog RFC 3164 (year-less time: the current year)', () => {
  const r = parse('syslog-rfc3164', "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8");
  assert.deepEqual(r?.fields, { pri: 34, host: 'mymachine', ident: 'su', pid: '123', message: "'su root' failed for lonvick on /dev/pts/8" });
  assert.equal(r?.time, ns(`${new Date().getUTCFullYear()}-10-11T22:14:15Z`));
  const noPid = parse('syslog-rfc3164', '<13>Feb  5 17:32:18 10.0.0.99 myproc: Use the BFG!');
  assert.deepEqual(noPid?.fields, { pri: 13, host: '10.0.0.99', ident: 'myproc', message: 'Use the BFG!' });
});

test('syslog RFC 5424, with and without structured data and fraction', () => {
  const r = parse(
    'syslog-rfc5424',
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry',
  );
  assert.deepEqual(r?.fields, {
    pri: 165,
    host: 'mymachine.example.com',
    ident: 'evntslog',
    pid: '-',
    msgid: 'ID47',
    extradata: '[exampleSDID@32473 iut="3" eventSource="Application"]',
    message: 'An application event log entry',
  });
  assert.equal(r?.time, ns('2003-10-11T22:14:15Z', 3_000_000n));
  const s = parse('syslog-rfc5424', "<34>1 2003-10-11T22:14:15-07:00 mymachine.example.com su 4711 ID47 - BOM'su root' failed");
  assert.equal(s?.fields.extradata, '-');
  assert.equal(s?.fields.pid, '4711');
  assert.equal(s?.time, ns('2003-10-12T05:14:15Z'));
});

test('CRI lines: full (F) and partial (P) flags, time kept', () => {
  const f = parse('cri', '2023-10-06T00:17:09.669794202Z stdout F {"level":"info","msg":"ready"}');
  assert.deepEqual(f?.fields, { time: '2023-10-06T00:17:09.669794202Z', stream: 'stdout', logtag: 'F', message: '{"level":"info","msg":"ready"}' });
  assert.equal(f?.time, ns('2023-10-06T00:17:09Z', 669794202n));
  const p = parse('cri', '2023-10-06T00:17:10.113242941Z stderr P a very long line that was spl');
  assert.deepEqual(p?.fields, { time: '2023-10-06T00:17:10.113242941Z', stream: 'stderr', logtag: 'P', message: 'a very long line that was spl' });
  assert.equal(parse('cri', 'plain line'), undefined);
});

test('Docker json-file lines', () => {
  const r = parse('docker', '{"log":"Listening on :8080\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}');
  assert.deepEqual(r?.fields, { log: 'Listening on :8080\n', stream: 'stdout', time: '2019-01-01T11:11:11.111111111Z' });
  assert.equal(r?.time, ns('2019-01-01T11:11:11Z', 111111111n));
});

test('json and logfmt built-ins; names, a config parser replaces a built-in; unknown names throw', () => {
  assert.deepEqual(parse('json', '{"a":1}')?.fields, { a: 1 });
  assert.deepEqual(parse('logfmt', 'a=1 b="x y"')?.fields, { a: '1', b: 'x y' });
  assert.deepEqual(set.names(), ['apache', 'cri', 'docker', 'json', 'logfmt', 'ltsv', 'nginx', 'syslog-rfc3164', 'syslog-rfc5424']);
  const own = new ParserSet([{ name: 'json', parse: () => ({ fields: { own: true }, time: undefined }) }]);
  assert.deepEqual(own.get('json')?.parse('{}')?.fields, { own: true });
  assert.throws(() => set.resolve(['json', 'nope']), /unknown parser "nope"/);
});

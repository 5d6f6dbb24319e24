import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSource } from '../../core/config/source.js';
import { ConfigError } from '../../core/errors.js';
import { parseQlogConfig } from '../../core/qlog-compat/load.js';
import { GUIDE_CONFIG } from './guide.js';

const parse = (text: string) => parseQlogConfig(ConfigSource.parse(text, 'config_qlog.toml'));

function errors(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(String);
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test("the guide's config is accepted as is", () => {
  const q = parse(GUIDE_CONFIG);
  assert.equal(q.port, 6000);
  assert.equal(q.workspace, '/var/log/qlog');
  assert.equal(q.rotate_size, 65536);
  assert.equal(q.monitor_items.length, 2);
  assert.equal(q.monitor_items[1]!.monitor_internel, 15_000);
});

test('defaults: rotate_size 2MB, rotate_num 10, log files, threads, log level', () => {
  const q = parse('port: 6000\nworkspace: /w\nmonitor_items:\n  - {name: r, monitor_type: resource, outputfile: r.log}\n');
  assert.equal(q.rotate_size, 2_000_000);
  assert.equal(q.rotate_num, 10);
  assert.equal(q.server_logfile, 'server.log');
  assert.equal(q.client_logfile, 'client.log');
  assert.equal(q.log_level, 'info');
  assert.equal(q.monitor_items[0]!.monitor_internel, undefined);
});

test('log_level is case-insensitive, TRACE..OFF', () => {
  for (const [w, want] of [
    ['TRACE', 'trace'],
    ['Debug', 'debug'],
    ['INFO', 'info'],
    ['warn', 'warn'],
    ['ERROR', 'error'],
    ['OFF', 'off'],
  ]) {
    assert.equal(parse(GUIDE_CONFIG.replace('log_level: info', `log_level: ${w}`)).log_level, want);
  }
  const e = errors(GUIDE_CONFIG.replace('log_level: info', 'log_level: verbose'));
  assert.match(e[0]!, /^config_qlog\.toml:7:12: log_level: expected one of "trace", "debug", "info", "warn", "error", "off", found "verbose"/);
});

test('monitor_interval is accepted as well as monitor_internel, not both', () => {
  assert.equal(parse(GUIDE_CONFIG.replace('monitor_internel: 15', 'monitor_interval: 5')).monitor_items[1]!.monitor_interval, 5000);
  const e = errors(GUIDE_CONFIG.replace('monitor_internel: 15', 'monitor_internel: 15\n    monitor_interval: 5'));
  assert.match(e[0]!, /:18:5: monitor_items\[1\]\.monitor_interval: give monitor_internel or monitor_interval, not both/);
});

test('unknown keys are errors with file:line:column and a suggestion', () => {
  const e = errors(GUIDE_CONFIG.replace('rotate_num: 10', 'rotate_nums: 10').replace('monitor_internel: 15', 'monitor_intervall: 15'));
  assert.equal(e.length, 2);
  assert.match(e[0]!, /^config_qlog\.toml:9:1: rotate_nums: unknown key "rotate_nums" \(did you mean "rotate_num"\?\)/);
  assert.match(e[1]!, /^config_qlog\.toml:17:5: monitor_items\[1\]\.monitor_intervall: unknown key "monitor_intervall" \(did you mean "monitor_interval"\?\)/);
});

test('types, required keys and item checks are located', () => {
  const e = errors(`port: six
workspace: /w
monitor_items:
  - name: a
    monitor_type: file
    outputfile: a.log
  - name: a
    monitor_type: socket
    outputfile: ../b.log
`);
  assert.ok(
    e.some((m) => /^config_qlog\.toml:1:7: port: expected an integer, found "six"/.test(m)),
    e.join('\n'),
  );
  assert.ok(
    e.some((m) => /:8:19: monitor_items\[1\]\.monitor_type: expected one of "file", "resource", found "socket"/.test(m)),
    e.join('\n'),
  );
  const f = errors(`port: 1
workspace: /w
monitor_items:
  - {name: a, monitor_type: file, outputfile: a.log}
  - {name: a, monitor_type: resource, outputfile: a.log}
  - {name: c, monitor_type: resource, outputfile: /etc/x}
  - {name: d, monitor_type: resource, outputfile: client.log}
`);
  assert.ok(
    f.some((m) => /:4:5: monitor_items\[0\]: missing "monitor_path"/.test(m)),
    f.join('\n'),
  );
  assert.ok(
    f.some((m) => /monitor_items\[1\]\.name: two items are named "a"/.test(m)),
    f.join('\n'),
  );
  assert.ok(
    f.some((m) => /monitor_items\[1\]\.outputfile: two items write "a.log"/.test(m)),
    f.join('\n'),
  );
  assert.ok(
    f.some((m) => /monitor_items\[2\]\.outputfile: expected a file name inside the workspace/.test(m)),
    f.join('\n'),
  );
  assert.ok(
    f.some((m) => /monitor_items\[3\]\.outputfile: "client.log" is also client_logfile/.test(m)),
    f.join('\n'),
  );
  assert.match(errors('port: 1\nworkspace: /w\n')[0]!, /missing required option "monitor_items"/);
});

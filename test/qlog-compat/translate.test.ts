import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { ConfigSource } from '../../core/config/source.js';
import { parseQlogConfig } from '../../core/qlog-compat/load.js';
import { translate, type TranslateOptions } from '../../core/qlog-compat/translate.js';
import { GUIDE_CONFIG } from './guide.js';

type Native = { service: Record<string, unknown>; pipeline: { inputs: Record<string, unknown>[]; outputs: Record<string, unknown>[] } };
const q = parseQlogConfig(ConfigSource.parse(GUIDE_CONFIG, 'config_qlog.toml'));
const native = (o: Partial<TranslateOptions> & Pick<TranslateOptions, 'role'>, cfg = q): Native =>
  parseYaml(translate(cfg, { cwd: '/home/op', source: 'config_qlog.toml', ...o })) as Native;

test('monitor: a tail input per file item, a resource input per resource item, vsock-forward listening on any CID', () => {
  const n = native({ role: 'monitor' });
  assert.deepEqual(n.pipeline.inputs, [
    { name: 'tail', alias: 'service', tag: 'service', path: '/var/log/service.log', read_from_head: true },
    { name: 'resource', alias: 'resource', tag: 'resource', interval: '15s' },
  ]);
  assert.deepEqual(n.pipeline.outputs, [{ name: 'vsock-forward', alias: 'to-parent', match: '*', listen: 'vsock://any:6000' }]);
  assert.deepEqual(n.service, {
    log_level: 'info',
    log_file: '/var/log/qlog/server.log',
    log_rotate_size: 65536,
    log_rotate_num: 10,
    state_dir: '/var/log/qlog/.qlog-state/monitor',
  });
  assert.equal(native({ role: 'monitor', cid: 16 }).pipeline.outputs[0]!.listen, 'vsock://16:6000');
});

test('receive-file: a vsock input connecting to the CID, a rotated-file output per item', () => {
  const n = native({ role: 'receive-file', cid: 4 });
  assert.deepEqual(n.pipeline.inputs, [{ name: 'vsock', alias: 'from-enclave', connect: 'vsock://4:6000' }]);
  assert.deepEqual(n.pipeline.outputs, [
    {
      name: 'rotated-file',
      alias: 'file.service',
      match: 'service',
      workspace: '/var/log/qlog',
      file: 'service.log',
      rotate_size: 65536,
      rotate_num: 10,
      format: 'line',
    },
    {
      name: 'rotated-file',
      alias: 'file.resource',
      match: 'resource',
      workspace: '/var/log/qlog',
      file: 'resource.log',
      rotate_size: 65536,
      rotate_num: 10,
      format: 'line',
    },
  ]);
  assert.equal(n.service.log_file, '/var/log/qlog/client.log');
  assert.equal(n.service.state_dir, '/var/log/qlog/.qlog-state/receive-file');
});

test('-w, --transport, --state-dir and --http-listen', () => {
  const n = native({ role: 'receive-file', cid: 4, workspace: '/data/qlog', transport: 'unix:///run/q.sock', stateDir: 'st', httpListen: '127.0.0.1:2020' });
  assert.equal(n.pipeline.inputs[0]!.connect, 'unix:///run/q.sock');
  assert.equal(n.pipeline.outputs[0]!.workspace, '/data/qlog');
  assert.equal(n.service.log_file, '/data/qlog/client.log');
  assert.equal(n.service.state_dir, '/home/op/st');
  assert.equal(n.service.http_listen, '127.0.0.1:2020');
  // -w is receive-file's: monitor keeps the config's workspace.
  assert.equal(native({ role: 'monitor', workspace: '/data/qlog' }).service.log_file, '/var/log/qlog/server.log');
});

test('relative paths resolve against the working directory; ${ stays literal; OFF is silent', () => {
  const rel = parseQlogConfig(
    ConfigSource.parse(
      'port: 1\nworkspace: logs\nlog_level: OFF\nmonitor_items:\n  - {name: a, monitor_type: file, monitor_path: "app/${x}.log", outputfile: "${tag}.log"}\n',
      'q.yaml',
    ),
  );
  const m = native({ role: 'monitor' }, rel);
  assert.equal(m.pipeline.inputs[0]!.path, '/home/op/app/$${x}.log');
  assert.equal(m.service.log_file, '/home/op/logs/server.log');
  assert.equal(m.service.log_level, 'silent');
  assert.equal(native({ role: 'receive-file', cid: 3 }, rel).pipeline.outputs[0]!.file, '$${tag}.log');
});

test('the generated text says where it comes from and what has no equivalent', () => {
  const text = translate(q, { role: 'monitor', cwd: '/', source: 'config_qlog.toml' });
  assert.match(text, /^# Enclave side: the native equivalent of `qlog monitor config_qlog.toml`/);
  assert.match(text, /server_threads: 4 has no equivalent/);
  assert.match(text, /# monitor_items\[0\] "service": file \/var\/log\/service.log -> service.log on the parent/);
});

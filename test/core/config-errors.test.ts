// Config errors as users see them: `file:line:column: path: message` on stderr, every error at
// once, exit status 2 for both `qlog validate` and `qlog run`; `qlog validate` prints OK on a good file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { fixture } from '../helpers/plugins.js';
import { builtinRegistry } from '../../core/builtins.js';
import { commonProperties, serviceSchema } from '../../core/config/common.js';
import { schema as dummySchema } from '../../plugins/dummy/schema.js';

const keys = (...objs: object[]) => objs.flatMap((o) => Object.keys(o)).join(', ');
const SERVICE_KEYS = keys(serviceSchema.properties);
const DUMMY_KEYS = keys(commonProperties.input, dummySchema.properties);
const INPUTS = builtinRegistry().names('input').join(', ');
const OUTPUTS = builtinRegistry().names('output').join(', ');

/** stderr of a failed validate/run: the issue lines, then the count. */
function report(lines: string[]): string {
  return `${lines.join('\n')}\n${lines.length} error${lines.length > 1 ? 's' : ''} in the configuration\n`;
}

describe('config errors', () => {
  const dir = tempDir({ after });

  /** Each of `cmds` on the file exits 2 with exactly `lines` on stderr and nothing on stdout. */
  async function expectErrors(name: string, yaml: string, lines: string[], cmds = ['validate']): Promise<void> {
    writeConfig(dir, name, yaml);
    const results = await Promise.all(cmds.map((cmd) => runCli([cmd, name], { cwd: dir })));
    for (const [i, cmd] of cmds.entries()) {
      const r = results[i]!;
      assert.equal(r.stderr, report(lines), `qlog ${cmd} ${name}: stderr`);
      assert.equal(r.stdout, '', `qlog ${cmd} ${name}: stdout`);
      assert.equal(r.code, 2, `qlog ${cmd} ${name}: exit status`);
    }
  }

  test('bad types, unknown keys with suggestions, bad units, bad enum and range values', async () => {
    await expectErrors(
      'types.yaml',
      `
service:
  log_level: infoo
  grace: abc
  stat_dir: /tmp/x
  log_rotate_size: 10 potatoes
pipeline:
  inputs:
    - name: dummy
      rate: fast
      samplse: 3
      buffer_limit: 12XB
  outputs:
    - name: stdout
      format: jsn
      workers: 0
      retry_base: 5x
      include_meta: maybe
      retry_limit: -1
      match: {a: 1}
  filter:
    - name: grep
`,
      [
        'types.yaml:2:14: service.log_level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", found "infoo" (did you mean "info"?)',
        'types.yaml:3:10: service.grace: expected a duration (e.g. 15 for seconds, 500ms, 5s, 1m), found "abc"',
        `types.yaml:4:3: service.stat_dir: unknown key "stat_dir" (did you mean "state_dir"?); allowed keys: ${SERVICE_KEYS}`,
        'types.yaml:5:20: service.log_rotate_size: expected a size (e.g. 65536, 64KiB, 2MB), found "10 potatoes"',
        'types.yaml:9:13: pipeline.inputs[0].rate: expected a number, found "fast"',
        `types.yaml:10:7: pipeline.inputs[0].samplse: unknown key "samplse" (did you mean "samples"?); allowed keys: ${DUMMY_KEYS}`,
        'types.yaml:11:21: pipeline.inputs[0].buffer_limit: expected a size (e.g. 65536, 64KiB, 2MB), found "12XB"',
        'types.yaml:14:15: pipeline.outputs[0].format: expected one of "line", "json", found "jsn" (did you mean "json"?)',
        'types.yaml:15:16: pipeline.outputs[0].workers: expected a number >= 1, found 0',
        'types.yaml:16:19: pipeline.outputs[0].retry_base: expected a duration (e.g. 15 for seconds, 500ms, 5s, 1m), found "5x"',
        'types.yaml:17:21: pipeline.outputs[0].include_meta: expected true or false, found "maybe"',
        'types.yaml:18:20: pipeline.outputs[0].retry_limit: expected an integer >= 0, or "no_limits" or false, found -1',
        'types.yaml:19:14: pipeline.outputs[0].match: expected a string, or a non-empty list, found a map',
        'types.yaml:20:3: pipeline.filter: unknown key "filter" (did you mean "filters"?); allowed keys: inputs, filters, outputs',
      ],
      ['validate', 'run'],
    );
  });

  test('unknown plugin with a suggestion; missing name; duplicate alias and duplicate default id', async () => {
    await expectErrors(
      'plugins.yaml',
      `
pipeline:
  inputs:
    - name: dumy
    - rate: 5
    - name: dummy
      alias: gen
    - name: dummy
      alias: gen
  outputs:
    - name: stdot
    - name: stdout
      alias: stdout.1
    - name: stdout
    - name: stdout
`,
      [
        `plugins.yaml:3:13: pipeline.inputs[0].name: unknown input plugin "dumy" (did you mean "dummy"?); available: ${INPUTS}`,
        `plugins.yaml:4:7: pipeline.inputs[1]: missing the input plugin's "name" (one of: ${INPUTS})`,
        'plugins.yaml:8:14: pipeline.inputs[3].alias: two plugin instances are named "gen"; give one a different alias',
        `plugins.yaml:10:13: pipeline.outputs[0].name: unknown output plugin "stdot" (did you mean "stdout"?); available: ${OUTPUTS}`,
        'plugins.yaml:13:13: pipeline.outputs[2].name: two plugin instances are named "stdout.1"; give one a different alias',
      ],
    );
  });

  test('missing required option (a plugin loaded from service.plugins)', async () => {
    await expectErrors(
      'required.yaml',
      `
service:
  plugins: [${JSON.stringify(fixture('needs-path'))}]
pipeline:
  outputs:
    - name: needs_path
      match: "*"
`,
      ['required.yaml:5:7: pipeline.outputs[0]: missing required option "path" (Where the records go); add "path: ..." here'],
    );
  });

  test('YAML syntax errors', async () => {
    await Promise.all([
      expectErrors('dup.yaml', 'service:\n  grace: 1s\n  grace: 2s\n', ['dup.yaml:3:3: YAML syntax error: Map keys must be unique']),
      expectErrors('flow.yaml', 'pipeline:\n  inputs:\n    - name: dummy\n      rate: [1\n  outputs: []\n', [
        'flow.yaml:5:3: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ]),
    ]);
  });

  test('a file that is not a map, and a missing file', async () => {
    await expectErrors('list.yaml', '- name: dummy\n', ['list.yaml:1:1: expected a map with "service" and "pipeline", found a list']);
    const r = await runCli(['validate', 'missing.yaml'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^qlog: QLOG_ERR_CONFIG_READ: cannot read config file missing\.yaml: ENOENT: no such file or directory/);
  });

  test('qlog validate prints OK and exits 0 on a good file (which run accepts too)', async () => {
    writeConfig(
      dir,
      'good.yaml',
      `
service:
  grace: 1500ms
  log_level: warn
pipeline:
  inputs:
    - name: dummy
      tag: app.one
      rate: 1000
      samples: 2
      dummy: 'line \${seq}'
  outputs:
    - name: stdout
      match: [app.*, other]
      buffer_limit: 64KiB
      retry_limit: 3
`,
    );
    const r = await runCli(['validate', 'good.yaml'], { cwd: dir });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'good.yaml: OK (1 inputs, 0 filters, 1 outputs)\n', '']);
  });
});

// ${VAR} and ${VAR:-default} interpolation on parsed values, $${ as an escape, errors located at the
// value, and template options (schema `template: true`, e.g. dummy's `dummy`) keeping ${...} for run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.js';
import { configFrom } from '../helpers/engine.js';

async function issues(yaml: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    await configFrom(yaml, [], env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(String);
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('${VAR}, ${VAR:-default}, $${ escape, values typed after interpolation', async () => {
  const c = await configFrom(
    `
service:
  grace: \${GRACE:-2s}
  hostname: "\${HOST_A}-\${HOST_B:-b}"
pipeline:
  inputs:
    - name: dummy
      tag: "pre.\${APP}.post"
      rate: \${RATE}
      samples: \${SAMPLES:-7}
      buffer_limit: \${LIMIT}
  outputs:
    - name: stdout
      match: "$\${APP}.*"
      alias: "\${ALIAS:-}out"
    - name: stdout
      match: "x\${EMPTY}y"
      format: \${FORMAT:-json}
`,
    [],
    { HOST_A: 'a', APP: 'web', RATE: '250', LIMIT: '64KiB', EMPTY: '', FORMAT: '' },
  );
  assert.equal(c.service.grace, 2000);
  assert.equal(c.service.hostname, 'a-b');
  const input = c.inputs[0]!;
  assert.equal(input.common.tag, 'pre.web.post');
  assert.equal(input.options.rate, 250, 'a number after interpolation');
  assert.equal(input.options.samples, 7);
  assert.equal(input.common.buffer_limit, 65536, 'units are converted after interpolation');
  assert.equal(c.outputs[0]!.common.match, '${APP}.*', '$${ is a literal ${');
  assert.equal(c.outputs[0]!.id, 'out', '${ALIAS:-} is empty');
  assert.equal(c.outputs[1]!.common.match, 'xy', 'a set but empty variable gives an empty string');
  assert.equal(c.outputs[1]!.options.format, 'json', ':- also replaces an empty value');
});

test('a variable value is not interpolated again', async () => {
  const c = await configFrom(`pipeline: { inputs: [{ name: dummy, tag: "\${A}" }] }`, [], { A: '${B}', B: 'no' });
  assert.equal(c.inputs[0]!.common.tag, '${B}');
});

test('unset variables are errors at the value, each reported', async () => {
  assert.deepEqual(
    await issues(
      `
service:
  hostname: \${NOPE_HOST}
pipeline:
  inputs:
    - name: dummy
      tag: "a.\${NOPE_TAG}.\${SET}"
      rate: \${RATE}
`,
      { SET: 'x', RATE: 'fast' },
    ),
    [
      'test.yaml:2:13: service.hostname: environment variable NOPE_HOST is not set (write ${NOPE_HOST:-default} to give a default)',
      'test.yaml:6:12: pipeline.inputs[0].tag: environment variable NOPE_TAG is not set (write ${NOPE_TAG:-default} to give a default)',
      'test.yaml:7:13: pipeline.inputs[0].rate: expected a number, found "fast"',
    ],
  );
});

test('template options keep ${...} (no env interpolation, no error for unset names)', async () => {
  const c = await configFrom(
    `
pipeline:
  inputs:
    - name: dummy
      dummy: "\${seq} \${HOME} \${NOPE_AT_ALL} $\${x}"
      tag: "\${HOME_TAG}"
`,
    [],
    { HOME: '/root', HOME_TAG: 'home' },
  );
  assert.equal(c.inputs[0]!.options.dummy, '${seq} ${HOME} ${NOPE_AT_ALL} $${x}');
  assert.equal(c.inputs[0]!.common.tag, 'home', 'other options of the same entry are interpolated');
});

test('names that are not variable names are left alone', async () => {
  const c = await configFrom(`pipeline: { inputs: [{ name: dummy, tag: "\${1x} \${} $HOME \${a-b}" }] }`, [], { HOME: 'h' });
  assert.equal(c.inputs[0]!.common.tag, '${1x} ${} $HOME ${a-b}');
});

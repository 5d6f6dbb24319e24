// The built-in schemas' validators that `npm run build` compiles ahead (scripts/precompile-schemas.mjs):
// the build (dist) has one for every built-in schema, the agent uses it, and it gives exactly what
// ajv gives at run time (validity, errors, defaults and units applied to the data) on valid,
// incomplete and wrong data. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
interface ValidateModule {
  compile(schema: object): Validate;
  newAjv(): { compile(schema: object): Validate };
  schemaKey(schema: object): string;
  releaseValidators(): void;
  VALIDATORS_DIR: string;
}
interface Schema {
  properties: Record<string, { default?: unknown; examples?: unknown[]; enum?: unknown[] }>;
}

const dist = (p: string) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const v = (await dist('core/config/validate.js')) as ValidateModule;
const { entrySchema, serviceSchema } = await dist('core/config/common.js');
const { parserSchema } = await dist('core/parsers/parser-schema.js');
const { multilineSchema } = await dist('core/multiline/ml-schema.js');
const { qlogSchema } = await dist('core/qlog-compat/schema.js');
const builtins = (await dist('plugins/index.js')) as Record<string, { name: string; kind: string; schema: object }>;

const schemas: [string, Schema][] = [
  ['service', serviceSchema],
  ['parsers', parserSchema],
  ['multiline_parsers', multilineSchema],
  ['qlog config', qlogSchema],
  ...Object.values(builtins).map((p): [string, Schema] => [`${p.kind} ${p.name}`, entrySchema(p.kind, p.schema)]),
];

/** Data to validate: nothing; each option at an example or default; each option of the wrong type; an unknown key. */
function samples(s: Schema): Record<string, unknown>[] {
  const props = Object.entries(s.properties);
  const pick = (p: Schema['properties'][string]) => p.examples?.[0] ?? p.enum?.[0] ?? p.default ?? 'x';
  return [
    {},
    Object.fromEntries(props.map(([k, p]) => [k, pick(p)])),
    Object.fromEntries(props.map(([k]) => [k, { a: 1 }])),
    Object.fromEntries(props.map(([k]) => [k, 'not-a-valid-value'])),
    Object.fromEntries(props.map(([k]) => [k, -1])),
    { ...Object.fromEntries(props.map(([k, p]) => [k, pick(p)])), no_such_key: 1 },
  ];
}

describe('precompiled config validators', () => {
  test('the build has a validator for every built-in schema', () => {
    const missing = schemas.filter(([, s]) => !existsSync(`${v.VALIDATORS_DIR}${v.schemaKey(s)}.cjs`)).map(([n]) => n);
    assert.deepEqual(missing, [], 'run `npm run build`');
  });

  test('compile() uses the precompiled validator, not ajv', () => {
    for (const [name, s] of schemas) assert.ok(!('schemaEnv' in v.compile(s)), `${name}: compiled by ajv at run time`);
    assert.ok('schemaEnv' in v.newAjv().compile(serviceSchema), 'ajv-compiled validators carry schemaEnv (what the check above relies on)');
  });

  for (const [name, s] of schemas) {
    test(`${name}: the same results as ajv`, () => {
      const pre = v.compile(s);
      const rt = v.newAjv().compile(s);
      for (const sample of samples(s)) {
        const a = structuredClone(sample);
        const b = structuredClone(sample);
        const okA = pre(a);
        const okB = rt(b);
        assert.equal(okA, okB, `${name}: valid ${JSON.stringify(sample)}`);
        assert.deepEqual(pre.errors ?? null, rt.errors ?? null, `${name}: errors for ${JSON.stringify(sample)}`);
        assert.deepEqual(a, b, `${name}: data after validation of ${JSON.stringify(sample)}`);
      }
    });
  }

  test('releaseValidators(): no module keeps them afterwards, and the next compile() loads them again', () => {
    const cache = createRequire(import.meta.url).cache;
    const loaded = () => Object.keys(cache).filter((f) => f.startsWith(v.VALIDATORS_DIR));
    const first = v.compile(serviceSchema);
    const file = loaded().find((f) => f.endsWith(`${v.schemaKey(serviceSchema)}.cjs`));
    assert.ok(file, 'the service validator was required');
    const m = cache[file]!;
    assert.ok(m.parent?.children.includes(m), "it is among its parent's children (what must be undone too)");
    v.releaseValidators();
    assert.deepEqual(loaded(), [], 'required validators left in the module cache');
    assert.ok(!m.parent?.children.includes(m), "a released validator still listed among its parent's children (kept alive by it)");
    const again = v.compile(serviceSchema);
    assert.notEqual(again, first, 'compile() after a release returned the old validator');
    assert.ok(!('schemaEnv' in again), 'the precompiled one, not ajv');
    const data: Record<string, unknown> = {};
    assert.equal(again(data), first(structuredClone({})));
    assert.ok(loaded().includes(file), 'required again');
  });
});

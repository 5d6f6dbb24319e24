/**
 * Plugin option schemas: plain JSON Schema (draft-07 subset, validated by ajv) with three
 * qlog keywords:
 *  - `unit: 'size'`     accepts 65536, "64KiB", "2MB"; the plugin receives a number of bytes.
 *  - `unit: 'duration'` accepts 15 (seconds), "500ms", "5s", "1m"; the plugin receives milliseconds.
 *  - `template: true`   the string keeps `${...}` for the run-time template engine (no env interpolation).
 * Every property needs `description` and (unless required) `default`: they drive validation,
 * `qlog plugins <name>` and the generated docs.
 */

export interface PropertySchema {
  readonly type?:
    | 'string'
    | 'integer'
    | 'number'
    | 'boolean'
    | 'array'
    | 'object'
    | readonly ('string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null')[];
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly unit?: 'size' | 'duration';
  readonly template?: boolean;
  readonly items?: PropertySchema;
  readonly properties?: { readonly [k: string]: PropertySchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | PropertySchema;
  readonly anyOf?: readonly PropertySchema[];
  readonly oneOf?: readonly PropertySchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly examples?: readonly unknown[];
}

export interface OptionsSchema {
  readonly type: 'object';
  readonly properties: { readonly [k: string]: PropertySchema };
  readonly required?: readonly string[];
  readonly additionalProperties: false;
  readonly description?: string;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type InferType<T> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? unknown[]
          : T extends 'object'
            ? { [k: string]: unknown }
            : never;

/** The TypeScript type of a value validated by schema S (after unit conversion and defaults). */
export type Infer<S> = S extends { unit: 'size' | 'duration' }
  ? number
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { const: infer C }
      ? C
      : S extends { anyOf: readonly (infer A)[] }
        ? Infer<A>
        : S extends { oneOf: readonly (infer A)[] }
          ? Infer<A>
          : S extends { type: 'array'; items: infer I }
            ? Infer<I>[]
            : S extends { type: 'object'; properties: infer P }
              ? InferObject<P, S extends { required: readonly (infer R)[] } ? R : never>
              : S extends { type: readonly (infer T)[] }
                ? InferType<T>
                : S extends { type: infer T }
                  ? InferType<T>
                  : unknown;

type KeysWithDefault<P> = { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P];

type InferObject<P, R> = Simplify<
  { [K in keyof P as K extends R | KeysWithDefault<P> ? K : never]: Infer<P[K]> } & {
    [K in keyof P as K extends R | KeysWithDefault<P> ? never : K]?: Infer<P[K]>;
  }
>;

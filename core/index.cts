/**
 * Types of qlog's CommonJS entry: `const { definePlugin } = require('qlog')`.
 *
 * Node 20 cannot require() an ES module, so the CJS entry's code (dist/core/index.cjs) is the
 * ESM SDK (core/index.ts) bundled as CommonJS by the build (scripts/bundle-cjs.mjs): the same
 * code, not a copy to keep in step. This file gives it the ESM entry's types (tsc emits the
 * index.d.cts that package.json "exports" names; the index.cjs it emits is replaced by the
 * bundle). test/sdk/cjs-entry.test.ts checks that both entries export the same names and
 * behave the same; test/sdk/types.test.ts that a CJS plugin type-checks against these.
 */
type Sdk = typeof import('./index.js');

export type {
  AnyPlugin,
  CheckContext,
  CheckError,
  ContextOf,
  Counters,
  EmitOptions,
  FilterContext,
  FilterHooks,
  InputContext,
  InputHooks,
  LabeledSample,
  LifecycleHooks,
  OutputContext,
  OutputHooks,
  Plugin,
  PluginDefinition,
  PluginKind,
  ServiceInfo,
  Settlement,
} from './plugin/define.js';
export type { Infer, OptionsSchema, PropertySchema } from './plugin/schema.js';
export type { Chunk, EntryBlock, LineBlock, LogRecord, RecordBody, RecordMeta } from './record.js';

export declare const definePlugin: Sdk['definePlugin'];
export declare const isPlugin: Sdk['isPlugin'];
export declare const PLUGIN_BRAND: Sdk['PLUGIN_BRAND'];
export declare const PermanentError: Sdk['PermanentError'];
export type PermanentError = InstanceType<Sdk['PermanentError']>;
export declare const nowNs: Sdk['nowNs'];
export declare const recordLine: Sdk['recordLine'];
export declare const recordBytes: Sdk['recordBytes'];
export declare const chunkBytes: Sdk['chunkBytes'];
export declare const newChunkId: Sdk['newChunkId'];
export declare const LINE_TRUNCATED: Sdk['LINE_TRUNCATED'];
export declare const LINE_INVALID_UTF8: Sdk['LINE_INVALID_UTF8'];
export declare const parseSize: Sdk['parseSize'];
export declare const parseDuration: Sdk['parseDuration'];
export declare const compileMatch: Sdk['compileMatch'];
export declare const VERSION: Sdk['VERSION'];
export declare const VERSION_RANGE: Sdk['VERSION_RANGE'];

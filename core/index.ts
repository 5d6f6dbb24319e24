/**
 * qlog's public SDK: everything a plugin (built-in or from npm) imports.
 *   import { definePlugin, type LogRecord } from 'qlog';
 */
import { VERSION, VERSION_RANGE } from './version.js';

export { definePlugin, isPlugin, PermanentError, PLUGIN_BRAND } from './plugin/define.js';
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
export { nowNs, recordLine, toJson, isoTimeNs, isoUtcSeconds, recordBytes, chunkBytes, newChunkId, LINE_TRUNCATED, LINE_INVALID_UTF8 } from './record.js';
export type { Chunk, EntryBlock, LineBlock, LogRecord, RecordBody, RecordMeta } from './record.js';
export { parseSize, parseDuration } from './config/units.js';
export { compileMatch } from './match.js';
export { VERSION, VERSION_RANGE };

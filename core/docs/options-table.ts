/** Option tables generated from plugin schemas: the one source for `qlog plugins <name>`, READMEs and docs/. */
import { commonProperties } from '../config/common.js';
import type { AnyPlugin, PluginKind } from '../plugin/define.js';
import type { PropertySchema } from '../plugin/schema.js';

export function typeOf(p: PropertySchema): string {
  if (p.unit) return p.unit;
  if (p.enum) return p.enum.map((v) => String(v)).join(' \\| ');
  if (p.anyOf ?? p.oneOf) return (p.anyOf ?? p.oneOf)!.map(typeOf).join(' or ');
  if (p.type === 'array') return `list of ${p.items ? typeOf(p.items) : 'values'}`;
  if (Array.isArray(p.type)) return p.type.join(' or ');
  if (p.type === 'object') return 'map';
  return String(p.type ?? 'any') + (p.template ? ' (template)' : '');
}

export function defaultOf(p: PropertySchema, required: boolean): string {
  if (required) return '(required)';
  if (p.default === undefined) return '';
  if (p.default === '') return '""';
  return typeof p.default === 'string' ? p.default : JSON.stringify(p.default);
}

export interface OptionRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

export function optionRows(plugin: AnyPlugin, withCommon = false): OptionRow[] {
  const own = Object.entries(plugin.schema.properties as Record<string, PropertySchema>);
  const common = withCommon
    ? Object.entries(commonProperties[plugin.kind as PluginKind] as Record<string, PropertySchema>).filter(([k]) => !(k in plugin.schema.properties))
    : [];
  const req = new Set(plugin.schema.required ?? []);
  const row = (key: string, p: PropertySchema, required: boolean): OptionRow => ({
    key,
    type: typeOf(p),
    default: defaultOf(p, required),
    description: (p.description ?? '').replace(/\n/g, ' '),
  });
  // A map of options (`tls`) is listed with each of its keys after it (`tls.ca_file` ...).
  return [...own, ...common].flatMap(([key, p]) => [
    row(key, p, req.has(key)),
    ...Object.entries(p.properties ?? {}).map(([k, sub]) => row(`${key}.${k}`, sub, p.required?.includes(k) ?? false)),
  ]);
}

export function markdownTable(rows: OptionRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\\\\\|/g, '\\|');
  return `${['| option | type | default | description |', '|---|---|---|---|', ...rows.map((r) => `| \`${r.key}\` | ${esc(r.type)} | ${r.default ? `\`${r.default}\`` : ''} | ${esc(r.description)} |`)].join('\n')}\n`;
}

export function textTable(rows: OptionRow[]): string {
  const w = Math.max(6, ...rows.map((r) => r.key.length));
  const t = Math.max(4, ...rows.map((r) => r.type.replace(/\\\|/g, '|').length));
  return `${rows.map((r) => `  ${r.key.padEnd(w)}  ${r.type.replace(/\\\|/g, '|').padEnd(t)}  ${r.default ? `[default: ${r.default}] ` : ''}${r.description}`).join('\n')}\n`;
}

/**
 * The multiline parsers a config can use by name: the built-ins (java, python, go, docker, cri)
 * plus the top-level `multiline_parsers:` list, each compiled once when the config is read.
 */
import { ParserSet } from '../parsers/registry.js';
import { BUILTIN_NAMES, BUILTIN_RULES, DEFAULT_FLUSH_MS } from './ml-builtins.js';
import { criMachine, dockerMachine, type Machine, regexMachine } from './ml-machine.js';
import { RuleMachine } from './ml-rules.js';

/** A user parser, compiled. */
export interface CompiledMultiline {
  readonly name: string;
  readonly rules: RuleMachine;
  readonly flushMs: number;
  readonly key: string;
}

export interface UseOptions {
  /** Overrides the parser's key_content. */
  readonly key?: string;
  /** Overrides the parser's flush_timeout (ms). */
  readonly flushMs?: number;
}

export class MultilineSet {
  private readonly user = new Map<string, CompiledMultiline>();
  private readonly builtinRules = new Map<string, RuleMachine>();

  constructor(parsers: readonly CompiledMultiline[] = []) {
    for (const p of parsers) this.user.set(p.name, p);
  }

  has(name: string): boolean {
    return this.user.has(name) || (BUILTIN_NAMES as readonly string[]).includes(name);
  }

  names(): string[] {
    return [...new Set([...BUILTIN_NAMES, ...this.user.keys()])].sort();
  }

  /** A machine for `name` (stateless: one per user is fine); throws for an unknown name. */
  machine(name: string, parsers: ParserSet = new ParserSet(), o: UseOptions = {}): Machine {
    const u = this.user.get(name);
    if (u) return regexMachine(name, u.rules, o.flushMs ?? u.flushMs, o.key ?? u.key);
    const flushMs = o.flushMs ?? DEFAULT_FLUSH_MS;
    switch (name) {
      case 'docker':
        return dockerMachine(parsers.resolve('docker')[0]!, flushMs, o.key ?? 'log');
      case 'cri':
        return criMachine(parsers.resolve('cri')[0]!, flushMs, o.key ?? 'message');
      case 'java':
      case 'python':
      case 'go': {
        let rules = this.builtinRules.get(name);
        if (!rules) this.builtinRules.set(name, (rules = new RuleMachine(BUILTIN_RULES[name])));
        return regexMachine(name, rules, flushMs, o.key ?? 'log');
      }
      default:
        throw new Error(`unknown multiline parser "${name}"; available: ${this.names().join(', ')}`);
    }
  }
}

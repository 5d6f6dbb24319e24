/**
 * Built-in multiline parsers, named as Fluent Bit's: java, python, go (regex rules with the
 * semantics of Fluent Bit's built-in rules, written here as rule tables), docker and cri
 * (pieces of one line). A `multiline_parsers:` entry of the same name replaces one.
 */
import type { RuleDefinition } from './ml-rules.js';

/** Fluent Bit's default flush_timeout. */
export const DEFAULT_FLUSH_MS = 4000;

const EXCEPTION_HEAD = '(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\\r\\n]';

export const BUILTIN_RULES: Readonly<Record<'java' | 'python' | 'go', readonly RuleDefinition[]>> = {
  // java.lang.IllegalStateException: boom / \tat a.b.C.m(C.java:1) / Caused by: ... / \t... 12 more
  java: [
    ['start_state, java_start_exception', EXCEPTION_HEAD, 'java_after_exception'],
    ['java_after_exception', '^[\\t ]*nested exception is:[\\t ]*', 'java_start_exception'],
    ['java_after_exception', '^[\\r\\n]*$', 'java_after_exception'],
    ['java_after_exception, java', '^[\\t ]+(?:eval )?at ', 'java'],
    ['java_after_exception, java', '^[\\t ]*(?:Caused by|Suppressed):', 'java_after_exception'],
    ['java_after_exception, java', '^[\\t ]*\\.\\.\\. \\d+ (?:more|common frames omitted)', 'java'],
  ],
  // Traceback (most recent call last): / File "x.py", line 1, in f / code / ValueError: x
  python: [
    ['start_state, python_start_exception', 'Traceback \\(most recent call last\\):$', 'python'],
    ['python', '^[\\t ]+File ', 'python_code'],
    ['python_code', '[^\\t ]', 'python'],
    ['python', '^(?:[^\\s.():]+\\.)*[^\\s.():]+:', 'python_start_exception'],
  ],
  // panic: ... / (blank) / goroutine 1 [running]: / main.main() / \t/x/main.go:8 +0x1d
  go: [
    ['start_state', '\\bpanic: ', 'go_after_panic'],
    ['start_state', 'http: panic serving', 'go_goroutine'],
    ['start_state', '\\bfatal error: ', 'go_after_panic'],
    ['go_after_panic', '^$', 'go_goroutine'],
    ['go_after_panic, go_after_signal, go_frame_1', '^$', 'go_goroutine'],
    ['go_after_panic', '^\\[signal ', 'go_after_signal'],
    ['go_goroutine', '^goroutine \\d+ \\[[^\\]]+\\]:$', 'go_frame_1'],
    ['go_frame_1', '^(?:[^\\s.:]+\\.)*[^\\s.():]+\\(|^created by ', 'go_frame_2'],
    ['go_frame_2', '^\\s', 'go_frame_1'],
  ],
};

export const BUILTIN_NAMES = ['cri', 'docker', 'go', 'java', 'python'] as const;

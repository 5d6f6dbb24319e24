/**
 * Built-in parsers, named and shaped as Fluent Bit's conf/parsers.conf ships them, so a config
 * can say `parser: nginx` without a `parsers:` section. A parser of the same name in the config
 * replaces the built-in.
 */
import type { ParserDefinition } from './parser.js';

const ACCESS_TYPES = { code: 'integer', size: 'integer' } as const;

export const BUILTIN_PARSERS: readonly ParserDefinition[] = [
  { name: 'json', format: 'json' },
  { name: 'logfmt', format: 'logfmt' },
  { name: 'ltsv', format: 'ltsv' },
  {
    // <34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8
    name: 'syslog-rfc3164',
    format: 'regex',
    regex: '^<(?<pri>[0-9]+)>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_/.\\-]*)(?:\\[(?<pid>[0-9]+)\\])?(?:[^:]*:)? *(?<message>.*)$',
    time_key: 'time',
    time_format: '%b %d %H:%M:%S',
    types: { pri: 'integer' },
  },
  {
    // <165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event
    name: 'syslog-rfc5424',
    format: 'regex',
    regex:
      '^<(?<pri>[0-9]{1,5})>1 (?<time>[^ ]+) (?<host>[^ ]+) (?<ident>[^ ]+) (?<pid>[-0-9]+) (?<msgid>[^ ]+) (?<extradata>(?:\\[.*?\\])+|-)(?: (?<message>.*))?$',
    time_key: 'time',
    time_format: '%Y-%m-%dT%H:%M:%S.%L%z',
    types: { pri: 'integer' },
  },
  {
    // 93.184.216.34 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.1" 200 2326 "http://x/" "Mozilla/5.0"
    name: 'nginx',
    format: 'regex',
    regex:
      '^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "(?<method>\\S+)(?: +(?<path>[^"]*?)(?: +\\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^"]*)" "(?<agent>[^"]*)")?.*$',
    time_key: 'time',
    time_format: '%d/%b/%Y:%H:%M:%S %z',
    types: ACCESS_TYPES,
  },
  {
    // Apache common or combined log format (Fluent Bit's apache2).
    name: 'apache',
    format: 'regex',
    regex:
      '^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "(?<method>\\S+)(?: +(?<path>[^ ]*) +\\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^"]*)" "(?<agent>[^"]*)")?$',
    time_key: 'time',
    time_format: '%d/%b/%Y:%H:%M:%S %z',
    types: ACCESS_TYPES,
  },
  {
    // Kubernetes CRI: 2023-10-06T00:17:09.669794202Z stdout F the message (P: a partial line).
    name: 'cri',
    format: 'regex',
    regex: '^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<message>.*)$',
    time_key: 'time',
    time_format: '%Y-%m-%dT%H:%M:%S.%L%z',
    time_keep: true,
  },
  {
    // Docker json-file: {"log":"the message\n","stream":"stdout","time":"2023-10-06T00:17:09.669794202Z"}
    name: 'docker',
    format: 'json',
    time_key: 'time',
    time_format: '%Y-%m-%dT%H:%M:%S.%L%z',
    time_keep: true,
  },
];

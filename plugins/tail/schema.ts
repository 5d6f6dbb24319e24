/** Options of the tail input (Fluent Bit's names and meanings where it has the option). */
const pathList = (description: string) =>
  ({
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description,
  }) as const;

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    buffer_limit: {
      unit: 'size',
      default: '1MiB',
      description:
        "The common input option, with a tail default: lines read and not yet handed to the outputs. The file is the buffer, so a small one costs nothing (tail's lines are kept as bytes until a filter or an output needs records).",
    },
    path: {
      ...pathList(
        'File(s) to follow: a path or glob pattern (`*`, `**`, `?`, `[..]`, `{a,b}`), a comma-separated list of them, or a YAML list. Relative paths resolve against the config file directory. Hidden files match only patterns that name the dot.',
      ),
      examples: ['/var/log/service.log', ['/var/log/app/*.log', '/var/log/nginx/access.log']],
    },
    exclude_path: {
      ...pathList('Patterns of paths not to follow (comma-separated or list). A pattern without `/` matches the file name (`*.gz`), others the whole path.'),
      default: [],
    },
    read_from_head: {
      type: 'boolean',
      default: false,
      description:
        'For files found at the first start: read them from their head instead of following from their end. Files that appear later, and files created while the agent was stopped, are always read from their head; known files resume at their committed offset.',
    },
    refresh_interval: {
      unit: 'duration',
      default: '1s',
      description:
        'How often the glob patterns are re-scanned for new files (and every file re-checked, in case a watch event was missed). With the inotify watcher, new files in watched directories are seen at once anyway.',
    },
    rotate_wait: {
      unit: 'duration',
      default: '5s',
      description:
        'How long a file that was renamed away or deleted is still followed (a writer may append until it reopens). It is read to its end and closed after this delay; its unterminated last line is emitted then.',
    },
    buffer_chunk_size: {
      unit: 'size',
      default: '512KiB',
      description: 'Bytes read per system call (one reusable buffer for all files). A read becomes one chunk of records.',
    },
    buffer_max_size: {
      unit: 'size',
      default: '256KiB',
      description:
        'Longest line. A longer line is split into pieces of at most this many bytes, each with meta.truncated = true (counter long_lines); it is never dropped and never stops the file (unlike Fluent Bit, which skips or stops).',
    },
    path_key: {
      type: 'string',
      default: '',
      description:
        'Also put the file path in metadata under this key (meta.path is always set). Formats that write metadata (include_meta) show it under that name.',
    },
    ignore_older: {
      unit: 'duration',
      default: 0,
      description: 'Do not open files last modified longer ago than this (0: off). A skipped file that is written to again is followed from where it was then.',
    },
    offsets_expire: {
      unit: 'duration',
      default: '7d',
      description:
        'How long the committed offset of a known file is kept once no pattern finds it at a start (a run with a wrong `path`, a file moved away or deleted while stopped); counted from the first start that missed it. A file found again within this time resumes where it was. 0: keep forever.',
    },
    watcher: {
      enum: ['auto', 'inotify', 'poll'],
      default: 'auto',
      description:
        'How changes are noticed. inotify: watch the directories (fs.watch). poll: stat every followed file every poll_interval. auto: inotify, or poll on file systems that give no events (NFS, 9p, virtiofs, FUSE, CIFS) and when a watch cannot be created.',
    },
    parser: {
      type: 'string',
      default: '',
      description:
        'Parse each line with this parser (a built-in such as nginx, cri, docker, syslog-rfc5424, or one from the top-level `parsers:` list); a line it cannot read stays a line, counted in parse_errors. Empty: lines stay bytes until a stage needs records.',
    },
    multiline: {
      type: 'string',
      default: '',
      description:
        'Join the lines of a record that spans several (a stack trace, a split container line) with this multiline parser: a built-in (java, python, go, docker, cri) or one from the top-level `multiline_parsers:` list. Offsets stay exact: a record still being assembled is never committed, a restart in its middle reads it whole again. Applied before `parser`. Empty: off.',
    },
    multiline_max_lines: {
      type: 'integer',
      minimum: 1,
      default: 1000,
      description:
        'Most lines in one multiline record. A longer one is cut here (meta.truncated = true, counted in multiline_truncated); the rest of it goes on as a new record, also flagged: nothing is dropped and memory stays bounded.',
    },
    multiline_max_bytes: {
      unit: 'size',
      default: '1MiB',
      description: 'Most bytes in one multiline record; past it the record is cut as with multiline_max_lines.',
    },
    multiline_time_budget: {
      unit: 'duration',
      default: '50ms',
      description:
        'Most time the multiline rules may take on one record. Past it the record leaves as assembled so far, the parser is bypassed for a minute (lines pass alone, counted in multiline_bypassed) and multiline_over_budget counts it: one pathological pattern cannot stall the agent.',
    },
    poll_interval: {
      unit: 'duration',
      default: '250ms',
      description: 'Stat interval of the poll watcher; also how often files that were renamed away or deleted are re-read until they are closed.',
    },
  },
} as const;

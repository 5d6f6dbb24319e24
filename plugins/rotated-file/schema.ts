export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['workspace'],
  properties: {
    workspace: {
      type: 'string',
      minLength: 1,
      description: "Directory the files are written in (relative paths resolve against the config file's directory). Nothing is ever written outside it.",
    },
    file: {
      type: 'string',
      template: true,
      minLength: 1,
      default: '${tag}.log',
      description:
        'File name inside the workspace, or a template such as `${tag}.log` or `${cid}/${tag}.log` (subdirectories are created). A record whose name would leave the workspace (absolute path, `..`, symlink) is refused and counted.',
    },
    rotate_size: {
      unit: 'size',
      default: '2MB',
      description: 'Rotate the file once it reaches this size (qlog: rotate_size). A file ends at the first line that reaches the size.',
    },
    rotate_num: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'Rotated files kept, logrotate style: <file>.1 (newest) .. <file>.N (qlog: rotate_num).',
    },
    format: {
      enum: ['line', 'json', 'template'],
      default: 'line',
      description:
        'line: the line as the service wrote it (object records: their `log`/`message` field, else JSON); json: one JSON object per line with time, tag and the fields; template: the `template` option.',
    },
    template: {
      type: 'string',
      template: true,
      default: '${time} ${tag} ${body}',
      description: 'Line written for each record when format is `template` (placeholders as in `file`).',
    },
    compress: { type: 'boolean', default: false, description: 'gzip rotated files: <file>.1.gz .. <file>.N.gz.' },
    fsync: {
      enum: ['off', 'batch'],
      default: 'off',
      description:
        'off: a chunk is acknowledged once written to the file (survives a crash of the agent, not of the machine); batch: also fsync the file and the delivery state before acknowledging (survives power loss).',
    },
    mkdir: { type: 'boolean', default: true, description: 'Create the workspace and subdirectories when missing.' },
    mode: {
      type: 'string',
      pattern: '^0?[0-7]{3}$',
      default: '0640',
      description: 'Permissions of new files, octal (write it quoted: "0640").',
    },
    max_open_files: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      default: 64,
      description: 'Files kept open at once; the least recently written one is closed when a new one is needed (templates writing many files).',
    },
  },
} as const;

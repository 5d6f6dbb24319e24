/**
 * Runs the real CLI with a dummy input and one http output entry (YAML flow map fields), for
 * the http output's end-to-end tests; `counters()` reads the output's counters from the
 * metrics endpoint.
 *
 *   const a = await startAgent(t, `url: ${rx.url}, format: loki`, { samples: 5 });
 */
import { startCli, type RunningCli } from '../../helpers/cli.js';
import { freePort, httpGet } from '../../helpers/net.js';
import { tempDir, writeConfig, type HasAfter } from '../../helpers/tmp.js';

export interface Agent {
  cli: RunningCli;
  dir: string;
  counters(): Promise<Record<string, number>>;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

export interface AgentOptions {
  /** The dummy record (a line, or JSON); `${seq}` counts from 1. */
  dummy?: string;
  samples?: number;
  rate?: number;
  tag?: string;
  /** Extra service settings (YAML flow map fields). */
  service?: string;
  env?: Record<string, string>;
}

export async function startAgent(t: HasAfter, output: string, o: AgentOptions = {}): Promise<Agent> {
  const dir = tempDir(t);
  const port = await freePort();
  writeConfig(
    dir,
    'agent.yaml',
    `
service: { http_listen: '127.0.0.1:${port}', grace: 2s${o.service ? `, ${o.service}` : ''} }
pipeline:
  inputs:
    - { name: dummy, tag: ${o.tag ?? 'app'}, dummy: '${o.dummy ?? 'line ${seq}'}', rate: ${o.rate ?? 1000}, samples: ${o.samples ?? 5} }
  outputs:
    - { name: http, alias: out, retry_base: 50ms, retry_max: 200ms, ${output} }
`,
  );
  const cli = startCli(['run', 'agent.yaml'], { owner: t, cwd: dir, env: o.env });
  return {
    cli,
    dir,
    async counters() {
      // Before the agent serves its metrics: nothing counted yet.
      const r = await httpGet(`http://127.0.0.1:${port}/api/v1/metrics`).catch(() => ({ body: '[]' }));
      const m = JSON.parse(r.body) as { id: string; counters: Record<string, number> }[];
      return m.find((x) => x.id === 'out')?.counters ?? {};
    },
    async stop() {
      cli.signal('SIGTERM');
      return (await cli.exited).code;
    },
  };
}

/** Optional metrics endpoint (service.http_listen): Prometheus text at /metrics, JSON at /api/v1/metrics. */
import { createServer } from 'node:http';
import type { Logger } from 'pino';
import type { InstanceMetrics } from './engine/engine.js';
import { HealthCheck, type HealthOptions } from './health.js';

export interface HttpEndpoint {
  close(): Promise<void>;
}

export function prometheusText(metrics: InstanceMetrics[]): string {
  const byName = new Map<string, { type: 'gauge' | 'counter'; lines: string[] }>();
  const line = (m: InstanceMetrics, k: string, gauge: boolean, labels: string, v: number) => {
    const name = `qlog_${m.kind}_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    let family = byName.get(name);
    if (!family) byName.set(name, (family = { type: gauge ? 'gauge' : 'counter', lines: [] }));
    family.lines.push(`${name}{id="${m.id}",plugin="${m.name}"${labels}} ${v}`);
  };
  for (const m of metrics) {
    for (const [k, v] of Object.entries(m.counters)) line(m, k, m.gauges.includes(k), '', v);
    for (const s of m.series ?? []) {
      let labels = '';
      for (const [l, v] of Object.entries(s.labels)) labels += `,${l.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(v)}"`;
      line(m, s.name, s.gauge === true, labels, s.value);
    }
  }
  let out = '';
  for (const [name, f] of byName) out += `# TYPE ${name} ${f.type}\n${f.lines.join('\n')}\n`;
  return out;
}

/** A label value as the Prometheus text format wants it: backslash, quote and newline escaped. */
function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** The agent process itself: memory (RSS, V8 heap, Buffers) and CPU time. */
export function processMetrics(): Record<string, number> {
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    resident_memory_bytes: m.rss,
    heap_used_bytes: m.heapUsed,
    heap_total_bytes: m.heapTotal,
    external_memory_bytes: m.external,
    array_buffers_bytes: m.arrayBuffers,
    cpu_seconds_total: (cpu.user + cpu.system) / 1e6,
    uptime_seconds: process.uptime(),
  };
}

function processText(): string {
  let out = '';
  for (const [k, v] of Object.entries(processMetrics())) {
    const name = `qlog_process_${k}`;
    out += `# TYPE ${name} ${k.endsWith('_total') ? 'counter' : 'gauge'}\n${name} ${v}\n`;
  }
  return out;
}

export function startHttp(listen: string, metrics: () => InstanceMetrics[], log: Logger, healthOptions: () => HealthOptions): Promise<HttpEndpoint> {
  const health = new HealthCheck(healthOptions, metrics);
  const sampler = setInterval(() => health.sample(), 1000).unref();
  const i = listen.lastIndexOf(':');
  const host = i > 0 ? listen.slice(0, i).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(i >= 0 ? listen.slice(i + 1) : listen);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(metrics()) + processText());
    } else if (req.url === '/api/v1/metrics') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metrics()));
    } else if (req.url === '/api/v1/process') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(processMetrics()));
    } else if (req.url === '/api/v1/health') {
      const h = health.report();
      if (h.healthy) res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      else res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', reasons: h.reasons }));
    } else res.writeHead(404).end('not found: try /metrics, /api/v1/metrics, /api/v1/process, /api/v1/health\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => {
      clearInterval(sampler);
      reject(e);
    });
    server.listen(port, host, () => {
      const a = server.address();
      const where = a && typeof a === 'object' ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : listen;
      log.info({ http: where }, `metrics on http://${where}/metrics`);
      resolve({
        close: () => {
          clearInterval(sampler);
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}

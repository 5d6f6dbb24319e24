/**
 * What plugins learn about the agent they run in (ServiceInfo), from a loaded config: one place for
 * the agent and the plugin test harness, so a field added here reaches both. Creates the state
 * directory (plugins keep their state there).
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { AgentConfig } from './load.js';
import type { ServiceInfo } from '../plugin/define.js';
import { VERSION } from '../version.js';
import { makeDir } from '../make-dir.js';

export function serviceInfoOf(c: AgentConfig): ServiceInfo {
  const stateDir = resolve(c.service.state_dir);
  makeDir(stateDir);
  return Object.freeze({
    version: VERSION,
    hostname: c.service.hostname || hostname(),
    stateDir,
    configDir: c.dir,
    graceMs: c.service.grace as number,
    parsers: c.parsers,
    multiline: c.multiline,
  });
}

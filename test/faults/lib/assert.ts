/** Assertions shared by the fault cases: the delivered set is exactly the written set. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { CheckResult } from '../../helpers/checker.js';
import type { FinalResult, Rig } from './rig.js';

/** Print the figures of a case (they go into the TAP output as a diagnostic). */
export function report(t: TestContext, what: string, r: CheckResult): void {
  t.diagnostic(
    `${what}: written ${r.expected}, arrived ${r.arrived}, lost ${r.lost}, duplicated ${r.duplicated}, altered ${r.altered}, foreign ${r.foreign.length}`,
  );
}

/** 0 lost, 0 duplicated, nothing altered or foreign, both agents stopped cleanly. `logs`: agent info lines to quote on failure. */
export function assertExact(rig: Rig, r: FinalResult | CheckResult, what = 'lines', logs?: RegExp): void {
  const d = rig.describe(r, logs);
  assert.equal(r.lost, 0, `${what}: lost lines\n${d}`);
  assert.equal(r.duplicated, 0, `${what}: duplicated lines\n${d}`);
  assert.equal(r.altered, 0, `${what}: altered (torn) lines\n${d}`);
  assert.deepEqual(r.foreign, [], `${what}: foreign lines\n${d}`);
  if ('exit' in r) assert.deepEqual(r.exit, { enclave: 0, parent: 0 }, `exit codes of the graceful stops\n${d}`);
}

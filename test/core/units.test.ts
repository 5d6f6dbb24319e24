// Sizes and durations as users write them in config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseDuration, parseSize } from '../../core/config/units.js';

test('parseSize: bytes, decimal (KB, MB, GB) and binary (KiB, MiB, GiB) units', () => {
  const table: [unknown, number][] = [
    [0, 0],
    [65536, 65536],
    ['65536', 65536],
    ['100b', 100],
    ['100B', 100],
    ['1k', 1000],
    ['1K', 1000],
    ['1KB', 1000],
    ['64KiB', 65536],
    ['64kib', 65536],
    ['2MB', 2_000_000],
    ['2M', 2_000_000],
    ['4MiB', 4 * 1024 * 1024],
    ['1GB', 1e9],
    ['1GiB', 1024 ** 3],
    ['1.5MiB', 1.5 * 1024 * 1024],
    ['1.5 MiB', 1.5 * 1024 * 1024],
    [' 10 KB ', 10_000],
    ['0.5KB', 500],
  ];
  for (const [input, bytes] of table) assert.equal(parseSize(input), bytes, JSON.stringify(input));
});

test('parseSize: not a size', () => {
  for (const bad of ['abc', '', '12XB', '1TB', '-1', '-1KB', '1e3', '0x10', 'KB', '1 2KB', -1, 1.5, NaN, Infinity, null, undefined, true, [], {}]) {
    assert.equal(parseSize(bad), undefined, JSON.stringify(bad) ?? String(bad));
  }
});

test('parseDuration: a bare number is seconds; ms, s, m, h, d', () => {
  const table: [unknown, number][] = [
    [0, 0],
    [15, 15_000],
    [0.5, 500],
    ['15', 15_000],
    ['500ms', 500],
    ['5s', 5000],
    ['1m', 60_000],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
    [' 10 ms ', 10],
    ['0ms', 0],
  ];
  for (const [input, ms] of table) assert.equal(parseDuration(input), ms, JSON.stringify(input));
});

test('parseDuration: not a duration', () => {
  for (const bad of ['abc', '', '5x', '5 sec', '1M', '5S', '-1s', '1w', 'ms', -1, NaN, Infinity, null, undefined, false, ['5s']]) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad) ?? String(bad));
  }
});

test('formatBytes', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(2048), '2.0 KiB');
  assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MiB');
  assert.equal(formatBytes(1024 ** 3), '1.00 GiB');
});

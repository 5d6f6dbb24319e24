import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, dropSpareBuffers, releaseBuffer } from '../../core/buffer-pool.js';
import { loadAddon } from '../../core/native-addon.js';

test('a pool reuses released buffers, keeps at most `keep`, and ignores foreign ones', () => {
  const p = new BufferPool(1024, 2);
  const a = p.acquire();
  const b = p.acquire();
  const c = p.acquire();
  assert.equal(a.length, 1024);
  assert.equal(p.release(a), true);
  assert.equal(p.release(a), false, 'twice: kept once');
  assert.equal(p.release(b), true);
  assert.equal(p.release(c), false, 'over `keep`: not kept (the caller may free it)');
  assert.equal(p.release(Buffer.alloc(1024).subarray(0, 512)), false, 'not one of ours');
  assert.equal(p.available, 2);
  const again = [p.acquire(), p.acquire()];
  assert.ok(again.includes(a) && again.includes(b));
  assert.notEqual(p.acquire(), c);
});

test('take: pooled when the size fills a quarter of a pooled buffer, else an exact buffer', () => {
  const p = new BufferPool(1000, 4);
  assert.deepEqual([p.take(250).pooled, p.take(1000).pooled, p.take(249).pooled, p.take(1001).pooled], [true, true, false, false]);
  assert.equal(p.take(100).buf.length, 100);
  assert.equal(p.take(1001).buf.length, 1001);
});

test('dropSpareBuffers lets every pool free its spare buffers; buffers in use still come back', () => {
  const p = new BufferPool(1000, 4);
  const q = new BufferPool(500, 4);
  const inUse = p.acquire();
  p.release(p.acquire());
  p.release(Buffer.allocUnsafeSlow(1000));
  q.release(q.acquire());
  assert.ok(dropSpareBuffers() >= 2 * 1000 + 500);
  assert.deepEqual([p.available, q.available], [0, 0]);
  p.release(inUse);
  assert.equal(p.available, 1);
  assert.equal(p.acquire(), inUse);
});

test('releaseBuffer frees a buffer that views an ArrayBuffer of its own, and nothing else', {
  skip: 'error' in loadAddon() && 'the addon is not built',
}, () => {
  const own = Buffer.allocUnsafeSlow(65536).fill(1);
  assert.equal(releaseBuffer(own), true);
  assert.equal(own.length, 0, 'its memory is gone (detached)');
  assert.equal(releaseBuffer(own), false, 'once');
  const pooled = Buffer.from('shared with other small buffers');
  const neighbour = Buffer.from('a neighbour in the pool');
  assert.equal(releaseBuffer(pooled), false, 'a view into the shared pool is left alone');
  assert.equal(pooled.toString(), 'shared with other small buffers');
  assert.equal(neighbour.toString(), 'a neighbour in the pool');
  const big = Buffer.allocUnsafeSlow(1000).fill(2);
  const part = big.subarray(10, 20);
  assert.equal(releaseBuffer(part), false, 'a view of part of a buffer is left alone');
  assert.equal(big.length, 1000);
  assert.equal(part[0], 2);
});

test('recycle: kept by the pool, or freed at once; never frees a buffer the pool holds', { skip: 'error' in loadAddon() && 'the addon is not built' }, () => {
  const p = new BufferPool(4096, 1);
  const a = p.acquire();
  const b = p.acquire();
  p.recycle(a);
  assert.equal(a.length, 4096, 'kept for reuse: intact');
  p.recycle(a);
  assert.equal(a.length, 4096, 'given back twice: the one the pool holds is not freed');
  p.recycle(b);
  assert.equal(b.length, 0, 'over `keep`: freed');
  assert.equal(p.acquire(), a);
  const own = Buffer.allocUnsafeSlow(100);
  p.recycle(own);
  assert.equal(own.length, 0, 'not of the pool: freed');
});

/**
 * A propensity thread that cannot start (here: every file descriptor of the process taken, so a new thread fails
 * with `Worker initialization failure: EMFILE`) is not started again for every batch: the batches are integrated
 * where they were dealt while it waits, and a thread starts again once it can.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const OFFLOAD = fileURLToPath(new URL('../../src/decision/propensity-offload.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'croupier-propensity-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts a thread and ends it, takes every free descriptor, sends 30 batches one after the other, gives the
 * descriptors back and (with RECOVER=1) sends batches until one is integrated on a thread; prints what happened.
 */
const SCRIPT = `
import { closeSync, openSync } from 'node:fs';
import { PropensityOffload } from ${JSON.stringify(OFFLOAD)};
const failedStarts = [];
const logger = { error: (fields, message) => { if (message.startsWith('a propensity thread failed')) failedStarts.push(fields.err?.code); }, warn() {}, info() {}, debug() {} };
const offload = new PropensityOffload({ logger, restartBackoffMs: Number(process.env.BACKOFF_MS) });
const job = () => new Promise((resolve) => offload.submit({
  alpha: new Float64Array([2, 3, 4, 5]), beta: new Float64Array([5, 4, 3, 2]), shown: new Int32Array([0, 1]),
  n: 4, count: 2, floor: undefined, finish: (reply) => resolve(reply !== null),
}));
const first = await job();
await offload.crash();
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
let onThread = 0;
for (let i = 0; i < 30; i++) if (await job()) onThread++;
const whileFull = { failedStarts: failedStarts.length, onThread };
for (const fd of held) closeSync(fd);
let recovered = false;
for (let i = 0; i < 500 && !recovered && process.env.RECOVER === '1'; i++) { recovered = await job(); if (!recovered) await new Promise((r) => setTimeout(r, 10)); }
await offload.close();
console.log(JSON.stringify({ first, held: held.length, whileFull, codes: [...new Set(failedStarts)], recovered }));
`;

function run(backoffMs: number, recover: boolean): Record<string, unknown> {
  const result = spawnSync(
    'sh',
    ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, '--import', 'tsx', join(dir, 'main.mts')],
    {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, BACKOFF_MS: String(backoffMs), RECOVER: recover ? '1' : '0' },
    },
  );
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('a propensity thread that cannot start', () => {
  it('is tried once in its backoff, not for every batch, while the batches are integrated in place', () => {
    writeFileSync(join(dir, 'main.mts'), SCRIPT);
    const outcome = run(60_000, false);
    expect(outcome).toMatchObject({
      first: true,
      whileFull: { failedStarts: 1, onThread: 0 },
      codes: ['ERR_WORKER_INIT_FAILED'],
    });
    expect(outcome.held).toBeGreaterThan(0);
  });

  it('starts again once descriptors are free and its backoff has passed', () => {
    writeFileSync(join(dir, 'main.mts'), SCRIPT);
    expect(run(20, true)).toMatchObject({ first: true, whileFull: { onThread: 0 }, recovered: true });
  });
});

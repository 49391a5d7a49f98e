/**
 * A thread's memory report under a full file-descriptor table: a gateway holding as many WebSockets as the process
 * may open (RLIMIT_NOFILE) leaves no descriptor free, and a report that needs one must not end its thread (the
 * topology and archive threads write theirs every few seconds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const THREAD_MEMORY = fileURLToPath(new URL('../../src/log/thread-memory.ts', import.meta.url));
/** tsx's loader, which a worker thread registers itself (it does not inherit the main thread's hooks). */
const TSX = createRequire(import.meta.url).resolve('tsx/package.json');
const TSX_API = pathToFileURL(join(dirname(TSX), 'dist/esm/api/index.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'croupier-fd-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A worker thread writing its memory report every 5 ms and saying how many times its own timer has run. */
const WORKER = `
import { parentPort } from 'node:worker_threads';
const { register } = await import(${JSON.stringify(TSX_API)});
register();
const { startMemoryReports } = await import(${JSON.stringify(THREAD_MEMORY)});
parentPort.postMessage({ memory: startMemoryReports(5) });
let ticks = 0;
setInterval(() => parentPort.postMessage({ ticks: ++ticks }), 5);
`;

/**
 * The main thread: starts the worker, takes every free descriptor (EMFILE), waits until the worker's timer has run 40
 * more times (its report's timer ran as often), then prints what happened.
 */
const MAIN = `
import { openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ownMemory, readMemoryReport } from ${JSON.stringify(THREAD_MEMORY)};
const worker = new Worker(${JSON.stringify(join(dir, 'worker.mjs'))});
let failure = null;
worker.on('error', (e) => { failure = e.code ?? e.message; });
let memory, ticks = 0;
worker.on('message', (m) => { if (m.memory) memory = m.memory; if (m.ticks) ticks = m.ticks; });
while (failure === null && (memory === undefined || ticks === 0)) await new Promise((r) => setTimeout(r, 5));
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
const from = ticks;
const reportBefore = memory && new Float64Array(memory)[3];
while (failure === null && ticks < from + 40) await new Promise((r) => setTimeout(r, 5));
let main;
try { main = ownMemory().heapUsed > 0; } catch (e) { main = e.code; }
console.log(JSON.stringify({
  held: held.length, failure, ticks: ticks - from, main,
  reported: memory !== undefined && new Float64Array(memory)[3] > reportBefore && readMemoryReport(memory).heapUsed > 0,
}));
process.exit(0);
`;

describe('thread memory reports', () => {
  it('keep a worker thread alive, and report, while every file descriptor is taken', () => {
    writeFileSync(join(dir, 'worker.mjs'), WORKER);
    writeFileSync(join(dir, 'main.mts'), MAIN);
    const run = spawnSync(
      'sh',
      ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, '--import', 'tsx', join(dir, 'main.mts')],
      { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    expect(run.stderr).toBe('');
    const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(outcome.held).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ failure: null, main: true, reported: true });
    expect(outcome.ticks).toBeGreaterThanOrEqual(40);
  });
});

/**
 * A fuzz pass against a running `croupier start` (everything embedded, auth on, a catalog published): seeded
 * mutated frames (fuzz-frames.ts) on connections that said a signed hello first, so the frames reach the message
 * handlers; the per-connection rate limit is raised (gateway.maxMessagesPerSecond 1,000,000) so that they are
 * handled rather than answered RATE_LIMITED. After every batch a ping must be answered; at the end the process must
 * be alive, ready, with no handler error counted, and a fresh client must get a full carousel. Prints what the
 * gateway answered, by type and code.
 *
 *   npx tsx load-tests/reliability/fuzz-main.ts [--frames 40000] [--seed 20261206]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { signClientToken } from '../../src/gateway/auth.ts';
import { createRng } from '../../src/stats/rng.ts';
import { mutateFrame, TEMPLATES } from './fuzz-frames.ts';
import { sleep, startEmbeddedCroupier } from './stack.ts';

const SECRET = 'fuzz-pass-secret-of-enough-length';
const BATCH = 500;

type Answer = { type: string; code?: string; items?: unknown[] };

/** A connection that said a signed hello; counts what it is answered. */
async function signedConnection(url: string, userId: string, answers: Map<string, number>) {
  const ws = new WebSocket(url);
  const waiting: ((m: Answer) => void)[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Answer;
    const key = m.code ? `${m.type} ${m.code}` : m.type;
    answers.set(key, (answers.get(key) ?? 0) + 1);
    for (const w of waiting.splice(0)) w(m);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (match: (m: Answer) => boolean, ms: number) =>
    new Promise<Answer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      const wait = (m: Answer) => {
        if (match(m)) {
          clearTimeout(timer);
          resolve(m);
        } else waiting.push(wait);
      };
      waiting.push(wait);
    });
  ws.send(JSON.stringify({ type: 'hello', userId, token: signClientToken(SECRET, userId, 3600) }));
  await next((m) => m.type === 'welcome', 10_000);
  return { ws, next, closed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { frames: { type: 'string' }, seed: { type: 'string' } } });
  const frames = Number(values.frames ?? 40_000);
  const seed = Number(values.seed ?? 20261206);
  const stack = await startEmbeddedCroupier({
    partitions: 4,
    items: 60,
    croupierConfig: {
      gateway: {
        authDisabled: false,
        authSecret: SECRET,
        adminToken: 'fuzz-admin',
        maxMessagesPerSecond: 1_000_000,
      },
    },
  });
  try {
    while (!stack.readiness.ready()) await sleep(100);
    const url = `${stack.croupier.gatewayUrl().replace(/^http/, 'ws').replace(/\/?$/, '')}/ws`;
    // The hello template carries a valid token, so that mutated hellos test more than the signature check.
    const templates = TEMPLATES.map((t) =>
      t.type === 'hello' ? { ...t, token: signClientToken(SECRET, 'fuzz-user', 3600) } : t,
    );
    const rng = createRng(seed);
    const random = () => rng.next();
    const answers = new Map<string, number>();
    let connection = await signedConnection(url, 'fuzz-user', answers);
    let reconnects = 0;
    let unansweredPings = 0;
    const started = Date.now();
    for (let sent = 0; sent < frames; sent += BATCH) {
      for (let i = 0; i < BATCH; i++) connection.ws.send(mutateFrame(random, templates));
      connection.ws.send('{"type":"ping"}');
      if ((await connection.next((m) => m.type === 'pong', 20_000)) === null) {
        unansweredPings++;
        connection.ws.terminate();
        connection = await signedConnection(url, 'fuzz-user', answers);
        reconnects++;
      }
    }
    const seconds = (Date.now() - started) / 1000;
    // Carousels are dealt after the synchronous answers: give the last ones a moment before counting.
    await sleep(2000);
    connection.ws.close();
    const base = stack.croupier.gatewayUrl();
    const metrics = await (await fetch(new URL('/metrics', base))).text();
    const handlerErrors = Number(/^croupier_handler_errors_total (\S+)$/m.exec(metrics)?.[1]);
    const healthz = (await fetch(new URL('/healthz', base))).status;
    const readyz = (await fetch(new URL('/readyz', base))).status;
    const fresh = await signedConnection(url, 'after-fuzz', new Map());
    fresh.ws.send(JSON.stringify({ type: 'carousel', requestId: 'check', slots: 5 }));
    const carousel = await fresh.next((m) => m.type === 'carousel' || m.type === 'error', 10_000);
    fresh.ws.close();
    const answered = [...answers.values()].reduce((a, b) => a + b, 0);
    console.log(
      `${frames} frames in ${seconds.toFixed(1)} s (seed ${seed}), ${answered} answers, ${reconnects} reconnects`,
    );
    console.log(`answers: ${JSON.stringify(Object.fromEntries([...answers].sort((a, b) => b[1] - a[1])))}`);
    console.log(
      `after: process ${stack.croupier.pid() > 0 ? 'alive' : 'gone'}, /healthz ${healthz}, /readyz ${readyz}, ` +
        `handler errors ${handlerErrors}, unanswered pings ${unansweredPings}, ` +
        `fresh client's carousel: ${carousel?.type === 'carousel' ? `${carousel.items?.length} items` : JSON.stringify(carousel)}`,
    );
    const held = handlerErrors === 0 && healthz === 200 && readyz === 200 && carousel?.items?.length === 5;
    process.exitCode = held ? 0 : 1;
  } finally {
    await stack.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

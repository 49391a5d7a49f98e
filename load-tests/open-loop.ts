/**
 * One step of a load test: requests at a target rate over a pool of connections, latencies in HdrHistograms.
 *
 * Open loop (the default): request i is due at t0 + i / rate whatever the responses do, and its latency is
 * measured from that intended time, not from when it actually left. A server (or generator) stall therefore
 * shows up in every request that was due during the stall, as a user would see it — the coordinated-omission
 * correction wrk2 applies. The histogram measured from the actual send time is kept beside it.
 *
 * Closed loop (`mode: 'closed'`, for comparison only): each connection sends its next request when the
 * previous answer arrives (paced to the rate when ahead), latency from the actual send — the classic
 * measurement that hides stalls, because nothing is sent while the server is stuck.
 *
 * Replies are matched to requests by the request id (`lt-<seq>`), found in the reply bytes without parsing
 * the JSON. A request not answered within `timeoutMs` of its intended time counts as a timeout; one never
 * answered is recorded at the time the step gave up on it (a lower bound of its latency).
 */
import * as hdr from 'hdr-histogram-js';
import { encodeClientFrame, type RawWebSocket } from '../src/ws-client/raw-client.ts';
import { startTicker, type Ticker } from './ticker.ts';

export type LoopMode = 'open' | 'closed';

export interface StepSpec {
  rate: number;
  durationMs: number;
  timeoutMs: number;
  mode?: LoopMode;
  /**
   * How an open loop waits for the next due time: `ticker` (default), a worker thread wakes it (ticker.ts);
   * `poll`, Node's timers then `setImmediate` within 2 ms of it, which spins the event loop (kept to measure what
   * that costs: `npm run bench:loadtest-client`).
   */
  wake?: 'ticker' | 'poll';
}

/** A percentile of a latency distribution, in milliseconds. */
export interface CurvePoint {
  percentile: number;
  ms: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  mean: number;
  /** The percentile curve (for plots). */
  curve: CurvePoint[];
}

export interface StepResult {
  rate: number;
  durationMs: number;
  mode: LoopMode;
  connections: number;
  sent: number;
  received: number;
  errors: number;
  timeouts: number;
  /** Replies per second over the step's schedule. */
  achievedRate: number;
  /** Latency from the intended send time (corrected for coordinated omission), ms. */
  latency: LatencySummary;
  /** Latency from the actual send time (what a naive generator reports), ms. */
  uncorrected: LatencySummary;
  /** How late the generator sent requests, ms: its own lag (p99, max). */
  sendLag: { p99: number; max: number };
  /** Feedback messages (clicks) sent after the step's replies (absent in results of runs before clicks). */
  feedback?: number;
  /** What a step probe measured around the step (loadtest.ts `StepProbe`). */
  parts?: Record<string, number>;
}

export interface RequestSource {
  /** The text of request `seq` (must carry `"requestId":"lt-<seq>"`), sent on connection `connection`. */
  request(seq: number, connection: number): string;
  /** Messages the user sends on the connection after reading a reply (clicks.ts); none when absent. */
  replied?(reply: Buffer): string[];
}

/** Connections the steps share, with one dispatcher the active step installs. */
export interface ConnectionPool {
  readonly sockets: RawWebSocket[];
  /** Next free request sequence number (steps never reuse one, so late replies cannot be mistaken). */
  nextSeq: number;
  handler: (message: Buffer, connection: number) => void;
}

const CURVE_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100];
const ID_PREFIX = Buffer.from('"requestId":"lt-');
const ERROR_MARK = Buffer.from('"type":"error"');

export function requestIdOf(seq: number): string {
  return `lt-${seq}`;
}

/** The sequence number in a reply's `"requestId":"lt-<seq>"`, or -1. */
export function replySeq(message: Buffer): number {
  const at = message.indexOf(ID_PREFIX);
  if (at === -1) return -1;
  let seq = 0;
  let i = at + ID_PREFIX.length;
  let digits = 0;
  for (; i < message.length; i++) {
    const c = message[i];
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    digits++;
  }
  return digits > 0 ? seq : -1;
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Percentiles of a histogram of microseconds, in milliseconds. */
export function summarize(histogram: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  const at = (p: number) => (histogram.totalCount === 0 ? 0 : ms(histogram.getValueAtPercentile(p)));
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: histogram.totalCount === 0 ? 0 : ms(histogram.maxValue),
    mean: histogram.totalCount === 0 ? 0 : Math.round(histogram.mean) / 1000,
    curve: CURVE_PERCENTILES.map((percentile) => ({ percentile, ms: at(percentile) })),
  };
}

/** Runs one step on the pool and resolves when every request is answered or has timed out. */
export async function runStep(
  pool: ConnectionPool,
  source: RequestSource,
  spec: StepSpec,
): Promise<StepResult> {
  const mode = spec.mode ?? 'open';
  // Open loop: a worker thread wakes the loop at the due times (ticker.ts), so the generator does not spin.
  const ticker: Ticker | null = mode === 'open' && spec.wake !== 'poll' ? await startTicker() : null;
  const connections = pool.sockets.length;
  const total = Math.max(1, Math.floor((spec.rate * spec.durationMs) / 1000));
  const interval = 1000 / spec.rate;
  const base = pool.nextSeq;
  pool.nextSeq += total;
  const intended = new Float64Array(total);
  const sentAt = new Float64Array(total);
  const answered = new Uint8Array(total);
  const corrected = newHistogram();
  const raw = newHistogram();
  const lag = newHistogram();
  let sent = 0;
  let received = 0;
  let errors = 0;
  let timeouts = 0;
  let feedback = 0;
  let lastReplyAt = 0;
  const timeoutUs = spec.timeoutMs * 1000;
  // Closed loop: per connection, whether a request is in flight and when it may send the next.
  const busy = new Uint8Array(connections);
  const nextAt = new Float64Array(connections);
  const connectionInterval = interval * connections;

  const t0 = performance.now() + 5;
  const end = t0 + spec.durationMs;
  for (let c = 0; c < connections; c++) nextAt[c] = t0 + c * interval;

  return new Promise((resolve) => {
    let finished = false;
    pool.handler = (message, connection) => {
      const seq = replySeq(message);
      const i = seq - base;
      if (i < 0 || i >= total || answered[i] === 1 || sentAt[i] === 0) return;
      const now = performance.now();
      answered[i] = 1;
      received++;
      lastReplyAt = now;
      if (message.indexOf(ERROR_MARK) !== -1) errors++;
      const fromIntended = (now - intended[i]) * 1000;
      if (fromIntended > timeoutUs) timeouts++;
      corrected.recordValue(Math.max(1, Math.round(fromIntended)));
      raw.recordValue(Math.max(1, Math.round((now - sentAt[i]) * 1000)));
      if (source.replied !== undefined) {
        for (const text of source.replied(message)) {
          pool.sockets[connection].sendFrame(encodeClientFrame(Buffer.from(text)));
          feedback++;
        }
      }
      if (mode === 'closed') {
        busy[connection] = 0;
        nextAt[connection] = Math.max(now, nextAt[connection] + connectionInterval);
      }
      if (received === sent && sent === total) finish();
    };

    const send = (i: number, connection: number, due: number, now: number) => {
      intended[i] = due;
      sentAt[i] = now;
      lag.recordValue(Math.max(1, Math.round((now - due) * 1000)));
      const text = source.request(base + i, connection);
      pool.sockets[connection].sendFrame(encodeClientFrame(Buffer.from(text)));
      sent++;
    };

    const tick = () => {
      if (finished) return;
      const now = performance.now();
      if (mode === 'open') {
        while (sent < total) {
          const due = t0 + sent * interval;
          if (due > now) break;
          send(sent, sent % connections, due, now);
        }
      } else if (now < end) {
        for (let c = 0; c < connections && sent < total; c++) {
          if (busy[c] === 0 && nextAt[c] <= now) {
            busy[c] = 1;
            // The naive generator believes the request was due when it actually left.
            send(sent, c, now, now);
          }
        }
      }
      const scheduleDone = mode === 'open' ? sent >= total : now >= end || sent >= total;
      if (scheduleDone) {
        armDeadline();
        return;
      }
      // The ticker calls again at the next due time; without it the loop polls.
      if (ticker !== null) return;
      const nextDue = mode === 'open' ? t0 + sent * interval : now + 0.2;
      const wait = nextDue - performance.now();
      if (wait > 2) setTimeout(tick, Math.floor(wait - 1));
      else setImmediate(tick);
    };

    let deadlineArmed = false;
    const armDeadline = () => {
      if (deadlineArmed) return;
      deadlineArmed = true;
      if (received === sent) return finish();
      setTimeout(finish, spec.timeoutMs).unref();
    };

    const finish = () => {
      if (finished) return;
      finished = true;
      ticker?.stop();
      pool.handler = () => {};
      const now = performance.now();
      for (let i = 0; i < sent; i++) {
        if (answered[i] === 1) continue;
        timeouts++;
        corrected.recordValue(Math.max(1, Math.round((now - intended[i]) * 1000)));
      }
      // Replies per second from the first due time to the later of the schedule's end and the last reply.
      const span = Math.max(spec.durationMs, lastReplyAt - t0, 1);
      resolve({
        rate: spec.rate,
        durationMs: spec.durationMs,
        mode,
        connections,
        sent,
        received,
        errors,
        timeouts,
        achievedRate: Math.round((received * 1000) / span),
        latency: summarize(corrected),
        uncorrected: summarize(raw),
        sendLag: {
          p99: lag.totalCount === 0 ? 0 : lag.getValueAtPercentile(99) / 1000,
          max: lag.totalCount === 0 ? 0 : lag.maxValue / 1000,
        },
        feedback,
      });
    };

    if (ticker === null) setTimeout(tick, 5);
    else ticker.run(performance.timeOrigin + t0, interval, total, tick);
  });
}

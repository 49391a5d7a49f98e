/**
 * The CPU each part of a running `croupier start` uses while a load step runs: per croupier thread (from the
 * gateway's /metrics, src/log/thread-cpu.ts), the rest of that process (V8's garbage-collection and compiler
 * helpers, libuv), its redis-server child (from /proc), and the generator (this process). Shares are CPU
 * seconds per wall second (1.0 = one core busy); `gatewayUsPerCarousel` is the gateway main thread's CPU per
 * carousel answered. Linux only (/proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { StepProbe } from '../load-tests/loadtest.ts';
import type { StepResult } from '../load-tests/open-loop.ts';

const TICKS = 100;

/** utime + stime of a process, seconds; null when it is gone. */
function processCpu(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** Pids of `parent`'s children named `comm`. */
export function childPids(parent: number, comm: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[1]) === parent && command === comm) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface ThreadFigures {
  cpu: Map<string, number>;
  busy: Map<string, number>;
}

async function scrapeThreads(metricsUrl: string): Promise<ThreadFigures> {
  const text = await (await fetch(metricsUrl)).text();
  const cpu = new Map<string, number>();
  const busy = new Map<string, number>();
  for (const m of text.matchAll(/^croupier_thread_cpu_seconds_total\{thread="([^"]+)"\} (\S+)$/gm))
    cpu.set(m[1], Number(m[2]));
  for (const m of text.matchAll(
    /^croupier_thread_event_loop_active_seconds_total\{thread="([^"]+)"\} (\S+)$/gm,
  ))
    busy.set(m[1], Number(m[2]));
  return { cpu, busy };
}

interface Snapshot {
  at: number;
  threads: ThreadFigures;
  croupier: number;
  redis: number;
  generator: number;
}

/** The thread names the table shows, in order; others add to `otherThreads`. */
export const THREADS = ['gateway', 'propensity', 'broker', 'topology', 'archive'] as const;

export function cpuPartsProbe(options: { croupierPid: number; metricsUrl: string }): StepProbe {
  const { croupierPid, metricsUrl } = options;
  const redisPids = childPids(croupierPid, 'redis-server');
  const redisCpu = () => redisPids.reduce((sum, pid) => sum + (processCpu(pid) ?? 0), 0);
  const generatorCpu = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  const snapshot = async (): Promise<Snapshot> => ({
    at: performance.now(),
    threads: await scrapeThreads(metricsUrl),
    croupier: processCpu(croupierPid) ?? 0,
    redis: redisCpu(),
    generator: generatorCpu(),
  });
  let before: Snapshot | null = null;
  return {
    async start() {
      before = await snapshot();
    },
    async stop(step: StepResult) {
      const after = await snapshot();
      const b = before!;
      const wall = (after.at - b.at) / 1000;
      const parts: Record<string, number> = {};
      let named = 0;
      for (const thread of THREADS) {
        const cpu = partOf(after.threads.cpu, thread) - partOf(b.threads.cpu, thread);
        named += cpu;
        parts[`${thread}Cpu`] = round(cpu / wall);
        const busy = partOf(after.threads.busy, thread) - partOf(b.threads.busy, thread);
        parts[`${thread}Busy`] = round(busy / wall);
      }
      parts.otherThreadsCpu = round((after.croupier - b.croupier - named) / wall);
      parts.redisCpu = round((after.redis - b.redis) / wall);
      parts.generatorCpu = round((after.generator - b.generator) / wall);
      parts.totalCpu = round(
        (after.croupier - b.croupier + after.redis - b.redis + after.generator - b.generator) / wall,
      );
      const gatewayCpu = (after.threads.cpu.get('gateway') ?? 0) - (b.threads.cpu.get('gateway') ?? 0);
      parts.gatewayUsPerCarousel = step.received > 0 ? Math.round((gatewayCpu * 1e6) / step.received) : 0;
      parts.totalUsPerCarousel =
        step.received > 0 ? Math.round((parts.totalCpu * wall * 1e6) / step.received) : 0;
      return parts;
    },
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * A part's figure: its thread's, with those of its numbered siblings (`propensity-2`, … with
 * `gateway.propensityThreads` above 1; their busy shares add up, so two busy threads show 2).
 */
function partOf(figures: ReadonlyMap<string, number>, thread: string): number {
  let sum = 0;
  for (const [name, value] of figures) {
    if (name === thread || (name.startsWith(`${thread}-`) && /^\d+$/.test(name.slice(thread.length + 1))))
      sum += value;
  }
  return sum;
}

/** A Markdown table of the parts per step. */
export function partsTable(steps: readonly StepResult[]): string {
  const head = [
    'rate/s',
    'achieved/s',
    ...THREADS.map((t) => `${t} CPU (busy)`),
    'other threads',
    'redis-server',
    'generator',
    'total',
    'gateway µs/carousel',
    'total µs/carousel',
  ];
  // Runs whose users click (bench:loadtest -- --clicks) also say how many clicks each carousel drew.
  const clicking = steps.some((s) => s.feedback !== undefined && s.feedback > 0);
  if (clicking) head.push('clicks/carousel');
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---:').join(' | ')} |`];
  for (const s of steps) {
    const p = s.parts;
    if (p === undefined) continue;
    lines.push(
      `| ${[
        s.rate,
        s.achievedRate,
        ...THREADS.map((t) => `${p[`${t}Cpu`]} (${p[`${t}Busy`]})`),
        p.otherThreadsCpu,
        p.redisCpu,
        p.generatorCpu,
        p.totalCpu,
        p.gatewayUsPerCarousel,
        p.totalUsPerCarousel,
        ...(clicking ? [((s.feedback ?? 0) / Math.max(1, s.received)).toFixed(2)] : []),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * `croupier shadow` on a recording with damaged carousels among good ones: a candidate set missing a field, not an
 * object or naming an item twice, a prior strength of −1, counts of 1e308, a score of 1e999, a propensity of
 * 1e-300, an unknown logging policy. Each made the shadow test throw a TypeError with a stack trace, never finish,
 * or print NaN (and estimates of ±1e298 the promotion gate would have read); each is now counted as unusable,
 * the first named, and the rest evaluated with finite estimates. The live shadow test (`--live`) refused every
 * look over one carousel with a propensity of 1e-300 (`trials is NaN`); it now leaves it out the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { liveShadow } from '../../src/shadow/live.ts';
import type { LoggedCarousel } from '../../src/shadow/logged-carousel.ts';
import { loggedCarouselProblem } from '../../src/shadow/logged-carousel-check.ts';
import { candidateSet, loggedCarousel } from './support/logged-carousels.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'croupier-shadow-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The damaged carousels, each with the words its problem is named by. */
const DAMAGED: [string, Partial<LoggedCarousel>, RegExp][] = [
  ['no item ids', { candidates: { ...candidateSet(), itemIds: undefined } as never }, /no list of item ids/],
  ['no scores', { candidates: { ...candidateSet(), scores: undefined } as never }, /scores is not a list/],
  ['not an object', { candidates: 'x' as never }, /not an object/],
  ['an item twice', { candidates: candidateSet({ itemIds: ['a', 'b', 'c', 'a'] }) }, /names an item twice/],
  ['prior strength −1', { candidates: candidateSet({ priorStrength: -1 }) }, /priorStrength is -1/],
  ['counts of 1e308', { candidates: candidateSet({ impressions: [1e308, 1e308, 1e308, 1e308] }) }, /1e\+308/],
  [
    'a score of 1e999',
    { candidates: candidateSet({ scores: [0.3, Number.POSITIVE_INFINITY, 0.2, 0.1] }) },
    /scores\[1\] is Infinity/,
  ],
  [
    'a propensity of 1e-300',
    {
      items: [
        { itemId: 'a', slot: 0, score: 0.3, propensity: 1e-300, shadowPropensity: null },
        { itemId: 'c', slot: 1, score: 0.2, propensity: 0.4, shadowPropensity: null },
      ],
    },
    /propensity 1e-300/,
  ],
  ['an unknown policy', { policy: '__proto__' as never }, /logging policy '__proto__' is unknown/],
];

/** A recording line of a carousel as `croupier simulate --record` writes it; Infinity as JSON's 1e999. */
function responseLine(c: LoggedCarousel, t: number): string {
  const response = {
    type: 'carousel',
    requestId: c.requestId,
    items: c.items.map(({ itemId, slot, score, propensity }) => ({ itemId, slot, score, propensity })),
    policy: c.policy,
    modelVersion: c.modelVersion,
    candidates: c.candidates,
  };
  return JSON.stringify({ kind: 'response', t, userId: c.userId, response }, (_, v) =>
    v === Number.POSITIVE_INFINITY ? '__infinity__' : v,
  ).replaceAll('"__infinity__"', '1e999');
}

const clickLine = (requestId: string, itemId: string, t: number) =>
  JSON.stringify({
    kind: 'feedback',
    t,
    userId: 'u1',
    feedback: { type: 'feedback', requestId, itemId, kind: 'click' },
  });

describe('damaged logged carousels', () => {
  it('each is named by what is wrong with it', () => {
    const index = new Map<string, number>();
    expect(loggedCarouselProblem(loggedCarousel(), index)).toBeNull();
    for (const [, changes, problem] of DAMAGED) {
      expect(loggedCarouselProblem(loggedCarousel(changes), index)).toMatch(problem);
    }
  });

  it('croupier shadow counts them as unusable, names the first and evaluates the rest', async () => {
    const lines: string[] = [];
    const good = 40;
    for (let i = 0; i < good; i++) {
      const requestId = `good-${i}`;
      lines.push(responseLine(loggedCarousel({ requestId }), i));
      if (i % 3 === 0) lines.push(clickLine(requestId, i % 2 === 0 ? 'a' : 'c', i + 0.5));
    }
    DAMAGED.forEach(([name, changes], k) => {
      lines.push(responseLine(loggedCarousel({ ...changes, requestId: `damaged-${name}` }), good + k));
    });
    const file = join(dir, 'damaged.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const args = [
      'bin/croupier.js',
      'shadow',
      '--input',
      file,
      '--replicates',
      '50',
      '--set',
      'log.level=warn',
    ];
    const candidates = ['--candidate', 'policy=greedy', '--candidate', 'policy=thompson,priorStrength=5'];
    const { stdout } = await run(process.execPath, [...args, ...candidates, '--json'], { timeout: 60_000 });
    const report = JSON.parse(stdout);
    expect(report.carousels).toMatchObject({ read: good + DAMAGED.length, evaluated: good });
    expect(report.carousels.unusable).toBe(DAMAGED.length);
    expect(report.carousels.firstUnusable).toEqual({
      requestId: 'damaged-no item ids',
      problem: 'its candidate set has no list of item ids',
    });
    for (const candidate of report.candidates) {
      for (const metric of Object.values(candidate.metrics) as {
        estimates: Record<string, { estimate: number; ci: number[] }>;
      }[]) {
        for (const e of Object.values(metric.estimates)) {
          for (const x of [e.estimate, ...e.ci]) expect(Number.isFinite(x)).toBe(true);
        }
      }
      expect(Number.isFinite(candidate.diagnostics.effectiveSampleSize)).toBe(true);
    }
    const text = await run(process.execPath, [...args, ...candidates], { timeout: 60_000 });
    expect(text.stdout).toMatch(/unusable 9;/);
    expect(text.stdout).toContain('unusable: the first, carousel damaged-no item ids: its candidate set');
    expect(text.stdout).not.toMatch(/NaN|Infinity/);
  });
});

describe('damaged carousels of a live shadow policy', () => {
  it('are left out and named, and the looks go on over the rest', () => {
    const live = (i: number, propensity: number) =>
      loggedCarousel({
        requestId: `live-${i}`,
        timestamp: i,
        shadowPolicy: 'greedy',
        items: [
          { itemId: 'a', slot: 0, score: 0.3, propensity, shadowPropensity: 0.6 },
          { itemId: 'c', slot: 1, score: 0.2, propensity: 0.4, shadowPropensity: 0.2 },
        ],
        clicks: [i % 3 === 0 ? 1 : 0, 0],
      });
    const carousels = Array.from({ length: 50 }, (_, i) => live(i, i % 10 === 5 ? 1e-300 : 0.5));
    const report = liveShadow(carousels, { looks: 5 });
    expect(report.unusable).toBe(5);
    expect(report.firstUnusable).toEqual({
      requestId: 'live-5',
      problem: 'its slot 0 has propensity 1e-300, outside [1e-12, 1]',
    });
    expect(report.looks.at(-1)?.carousels).toBe(45);
    for (const look of report.looks) {
      for (const x of [look.shadowCtr, look.effectiveSampleSize, ...look.test.ci]) {
        expect(Number.isFinite(x)).toBe(true);
      }
    }
  });
});

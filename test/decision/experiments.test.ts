import { describe, expect, it } from 'vitest';
import { BUCKETS, ExperimentAssigner, HOLDOUT } from '../../src/experiments/assign.ts';
import { type ExperimentsConfigInput, parseExperimentsConfig } from '../../src/experiments/config.ts';
import { murmur3 } from '../../src/experiments/hash.ts';

const USERS = 100_000;
const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);

function config(input: ExperimentsConfigInput) {
  return parseExperimentsConfig(input);
}

describe('murmur3', () => {
  it('matches the reference vectors of MurmurHash3_x86_32', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    const h = (s: string, seed: number) => murmur3(bytes(s), bytes(s).length, seed);
    expect(h('', 0)).toBe(0);
    expect(h('', 1)).toBe(0x514e28b7);
    expect(h('hello', 0)).toBe(0x248bfa47);
    expect(h('Hello, world!', 0x9747b28c)).toBe(0x24884cba);
    expect(h('The quick brown fox jumps over the lazy dog', 0x9747b28c)).toBe(0x2fa826cd);
  });
});

describe('experiment assignment', () => {
  const abc = config({
    layers: [
      {
        name: 'ranking',
        salt: 'ranking-1',
        experiments: [
          {
            name: 'policy',
            range: [0, 100],
            variants: [
              { name: 'a', weight: 1 },
              { name: 'b', weight: 1, policy: 'ucb1' },
              { name: 'c', weight: 2, policy: 'greedy', priorStrength: 5 },
            ],
            shadow: { policy: 'random' },
          },
        ],
      },
    ],
  });

  it('is deterministic across assigners and calls', () => {
    const first = new ExperimentAssigner(abc);
    const second = new ExperimentAssigner(abc);
    for (const user of users.slice(0, 2000)) expect(second.assign(user)).toEqual(first.assign(user));
    expect(first.assign('user-7')).toEqual(first.assign('user-7'));
  });

  it('splits 100k users by variant weight within 1 point and applies the overrides', () => {
    const assigner = new ExperimentAssigner(abc);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    let wrong = 0;
    for (const user of users) {
      const a = assigner.assign(user);
      counts[a.variant!]++;
      if (a.variant === 'b' && a.policy !== 'ucb1') wrong++;
      if (a.variant === 'c' && a.priorStrength !== 5) wrong++;
      if (a.experiment !== 'policy' || a.shadow !== 'random') wrong++;
    }
    expect(wrong).toBe(0);
    expect(Math.abs(counts.a / USERS - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(counts.b / USERS - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(counts.c / USERS - 0.5)).toBeLessThan(0.01);
  });

  it('never puts a user in two experiments of one layer; layers split independently', () => {
    const layered = config({
      layers: [
        {
          name: 'ranking',
          salt: 'ranking-1',
          experiments: [
            { name: 'x', range: [0, 30], variants: [{ name: 'on' }] },
            { name: 'y', range: [30, 60], variants: [{ name: 'on' }] },
          ],
        },
        {
          name: 'prior',
          salt: 'prior-1',
          experiments: [{ name: 'z', range: [0, 50], variants: [{ name: 'on', priorStrength: 50 }] }],
        },
      ],
    });
    const assigner = new ExperimentAssigner(layered);
    const counts: Record<string, number> = { x: 0, y: 0, none: 0, z: 0, xz: 0 };
    let overlaps = 0;
    for (const user of users) {
      const a = assigner.assign(user);
      const ranking = a.layers.filter((l) => l.layer === 'ranking');
      if (ranking.length > 1) overlaps++;
      const inX = ranking[0]?.experiment === 'x';
      const inZ = a.layers.some((l) => l.experiment === 'z');
      if (inX) counts.x++;
      else if (ranking[0]?.experiment === 'y') counts.y++;
      else counts.none++;
      if (inZ) counts.z++;
      if (inX && inZ) counts.xz++;
    }
    expect(overlaps).toBe(0);
    expect(Math.abs(counts.x / USERS - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts.y / USERS - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts.z / USERS - 0.5)).toBeLessThan(0.01);
    // Independent layers: P(x and z) ≈ P(x)·P(z).
    expect(Math.abs(counts.xz / USERS - 0.15)).toBeLessThan(0.01);
  });

  it('keeps holdout users out of every experiment', () => {
    const held = config({
      holdout: { salt: 'holdout-1', percent: 5 },
      shadow: { policy: 'greedy' },
      layers: abc.layers,
    });
    const assigner = new ExperimentAssigner(held);
    let holdout = 0;
    let wrong = 0;
    for (const user of users) {
      const a = assigner.assign(user);
      if (a.variant === HOLDOUT) {
        holdout++;
        if (a.experiment !== HOLDOUT || a.layers.length > 0 || a.policy !== undefined || a.shadow !== null)
          wrong++;
        if (assigner.bucket('holdout-1', user) >= 0.05 * BUCKETS) wrong++;
      } else if (a.experiment !== 'policy') wrong++;
    }
    expect(wrong).toBe(0);
    expect(Math.abs(holdout / USERS - 0.05)).toBeLessThan(0.005);
  });

  it('rejects overlapping experiments in one layer, naming the path', () => {
    expect(() =>
      config({
        layers: [
          {
            name: 'l',
            salt: 's',
            experiments: [
              { name: 'x', range: [0, 40], variants: [{ name: 'on' }] },
              { name: 'y', range: [30, 60], variants: [{ name: 'on' }] },
            ],
          },
        ],
      }),
    ).toThrowError(/layers\.0\.experiments\.1\.range: overlaps experiment x/);
    expect(() =>
      config({
        layers: [
          { name: 'l', salt: 's', experiments: [{ name: 'x', range: [50, 10], variants: [{ name: 'on' }] }] },
        ],
      }),
    ).toThrowError(/CROUPIER|start must be below end/);
    expect(() => config({ holdout: { salt: 's', percent: 120 } })).toThrowError(/holdout\.percent/);
  });

  it('refuses policy parameters past their finite range, naming the path', () => {
    // priorStrength 1e308 was accepted and made every carousel of the experiment's users fail (beta is Infinity).
    const variant = (overrides: Record<string, number>) =>
      config({
        layers: [
          {
            name: 'l',
            salt: 's',
            experiments: [{ name: 'x', range: [0, 50], variants: [{ name: 'v', ...overrides }] }],
          },
        ],
      });
    const path = /layers\.0\.experiments\.0\.variants\.0\./;
    for (const priorStrength of [1e308, Number.POSITIVE_INFINITY, 1e6 + 1, 1e-300, 0])
      expect(() => variant({ priorStrength }), String(priorStrength)).toThrowError(path);
    for (const ucbC of [1e308, Number.POSITIVE_INFINITY])
      expect(() => variant({ ucbC }), String(ucbC)).toThrowError(/variants\.0\.ucbC/);
    for (const weight of [1e308, Number.POSITIVE_INFINITY])
      expect(() => variant({ weight }), String(weight)).toThrowError(/variants\.0\.weight/);
    expect(
      variant({ priorStrength: 1e6, ucbC: 1e6, weight: 1e6 }).layers[0].experiments[0].variants[0],
    ).toMatchObject({
      priorStrength: 1e6,
    });
  });
});

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** A reference fixture written by scripts/stats-reference-b (non-finite numbers spelled as strings). */
export function loadFixture<T>(name: string): T {
  const text = readFileSync(new URL(`../fixtures/stats-b/${name}`, import.meta.url), 'utf8');
  return JSON.parse(text, (_key, value) => {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    return value;
  }) as T;
}

/** Relative error ≤ rel (absolute 1e-12 near zero), the agreement croupier's statistics promise. */
export function expectClose(actual: number, expected: number, rel = 1e-6, label = ''): void {
  if (Number.isNaN(expected)) {
    expect(actual, label).toBeNaN();
    return;
  }
  const tolerance = Math.max(rel * Math.abs(expected), 1e-12);
  if (!(Math.abs(actual - expected) <= tolerance)) {
    expect.fail(
      `${label}: got ${actual}, reference ${expected} (relative error ${Math.abs(actual - expected) / Math.abs(expected)})`,
    );
  }
}

export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel = 1e-6,
  label = '',
): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i], expected[i], rel, `${label}[${i}]`);
}

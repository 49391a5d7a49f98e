/** Helpers for the reference-value tests: fixture loading and closeness checks at 1e-6 relative error. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'stats');

function revive(_key: string, value: unknown): unknown {
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return value;
}

/** A fixture written by scripts/stats-reference/*.py, non-finite numbers restored. */
export function loadFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'), revive) as T;
}

export const REL = 1e-6;

/**
 * True when `actual` agrees with `expected` to relative error `rel`. Expected values below `floor` in
 * magnitude (p-values under 1e-12 by default) only need `actual` below the floor too.
 */
export function isClose(actual: number, expected: number, rel = REL, floor = 1e-300): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  if (Math.abs(expected) < floor) return Math.abs(actual) < floor * 10;
  return Math.abs(actual - expected) <= rel * Math.abs(expected);
}

export function expectClose(
  actual: number,
  expected: number,
  label: string,
  rel = REL,
  floor = 1e-300,
): void {
  if (!isClose(actual, expected, rel, floor)) {
    expect.fail(
      `${label}: got ${actual}, expected ${expected} (relative error ${Math.abs(actual - expected) / Math.abs(expected)})`,
    );
  }
}

export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  rel = REL,
  floor = 1e-300,
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectClose(actual[i], expected[i], `${label}[${i}]`, rel, floor);
}

/** p-values: relative 1e-6 where the reference is ≥ 1e-12; below that, only "tiny" is asserted. */
export function expectPValue(actual: number, expected: number, label: string): void {
  expectClose(actual, expected, label, REL, 1e-12);
}

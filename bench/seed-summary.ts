/** Summaries over seeds that the accuracy benchmarks share. */

/** Wilson's 95 % interval of a proportion k / n: how far n seeds pin a coverage down. */
export function wilsonInterval(k: number, n: number): [number, number] {
  const z = 1.96;
  const p = k / n;
  const centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z ** 2 / (4 * n ** 2))) / (1 + z ** 2 / n);
  return [centre - half, centre + half];
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). */
export function standardDeviation(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
}

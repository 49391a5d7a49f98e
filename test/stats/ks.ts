/** One-sample Kolmogorov–Smirnov test for the sampler tests: statistic D and its asymptotic p-value. */
export function ksTest(sample: Float64Array, cdf: (x: number) => number): { d: number; pValue: number } {
  const x = Float64Array.from(sample).sort();
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(x[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  // Stephens' small-sample correction of the Kolmogorov distribution's argument.
  const sqrtN = Math.sqrt(n);
  const lambda = (sqrtN + 0.12 + 0.11 / sqrtN) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    p += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return { d, pValue: Math.min(1, Math.max(0, p)) };
}

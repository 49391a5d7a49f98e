/**
 * The Beta(a, b) distribution function for the propensity estimator's inner loop: the regularized incomplete
 * beta I_x(a, b) by the modified Lentz continued fraction, with ln B(a, b) computed once per item by the
 * caller and a relative tolerance of 1e-10 (propensities need far less), so one evaluation costs a few
 * dozen flops instead of three log-gamma calls plus a 1e-16 fraction.
 */

const TOLERANCE = 1e-10;
const TINY = 1e-300;
const MAX_TERMS = 500;

function continuedFraction(a: number, b: number, x: number): number {
  const sum = a + b;
  const next = a + 1;
  const prev = a - 1;
  let c = 1;
  let d = 1 - (sum * x) / next;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_TERMS; m++) {
    const m2 = 2 * m;
    let term = (m * (b - m) * x) / ((prev + m2) * (a + m2));
    d = 1 + term * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + term / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    term = (-(a + m) * (sum + m) * x) / ((a + m2) * (next + m2));
    d = 1 + term * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + term / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < TOLERANCE) break;
  }
  return h;
}

/** P(X ≤ x) for X ~ Beta(a, b), given `logBetaAB` = ln B(a, b). */
export function betaCdf(a: number, b: number, logBetaAB: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const y = 1 - x;
  const front = Math.exp(a * Math.log(x) + b * Math.log(y) - logBetaAB);
  if (x < (a + 1) / (a + b + 2)) return (front * continuedFraction(a, b, x)) / a;
  return 1 - (front * continuedFraction(b, a, y)) / b;
}

/**
 * Special functions behind the distributions and tests: log-gamma, the regularized incomplete gamma and beta
 * functions (series and Lentz continued fractions, accurate to ~1e-14 relative in both tails), the normal
 * integral and its inverse, and a safeguarded Newton root-finder used to invert distribution functions.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.9189385332046728;
const EPS = 1e-16;
const TINY = 1e-300;

/** Stirling series remainder for x ≥ 10: lgamma(x) - [(x - ½) ln x - x + ½ ln 2π]. */
function stirlingTail(x: number): number {
  const x2 = x * x;
  return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / x2) / x2) / x2) / x2) / x;
}

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x === 1 || x === 2) return 0;
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + stirlingTail(x);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln C(n, k) for real n ≥ k ≥ 0. */
export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** The log of the prefactor x^a e^-x / Γ(a) of the incomplete gamma function. */
function gammaPrefactorLog(a: number, x: number): number {
  return a * Math.log(x) - x - logGamma(a);
}

function gammaSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < 100000; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(gammaPrefactorLog(a, x));
}

function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(gammaPrefactorLog(a, x)) * h;
}

/** Regularized lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in the upper tail. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b). Pass `y = 1 − x` when it is known more precisely than `1 - x`
 * (e.g. t²/(ν + t²)); the complement is then computed without cancellation.
 */
export function betaInc(a: number, b: number, x: number, y = 1 - x): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logFront = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, y)) / b;
}

/** 1 − I_x(a, b), accurate when it is small. */
export function betaIncComplement(a: number, b: number, x: number, y = 1 - x): number {
  return betaInc(b, a, y, x);
}

/** Standard normal CDF Φ(z), accurate to ~1e-15 relative in both tails. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === 0) return 0.5;
  const h = (z * z) / 2;
  if (z < 0) return 0.5 * gammaQ(0.5, h);
  return 0.5 + 0.5 * gammaP(0.5, h);
}

/** Standard normal survival 1 − Φ(z). */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
}

const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p): Acklam's rational approximation refined by two Halley steps on the exact Φ. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -normalQuantile(1 - p);
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((ACKLAM_C[0] * q + ACKLAM_C[1]) * q + ACKLAM_C[2]) * q + ACKLAM_C[3]) * q + ACKLAM_C[4]) * q +
        ACKLAM_C[5]) /
      ((((ACKLAM_D[0] * q + ACKLAM_D[1]) * q + ACKLAM_D[2]) * q + ACKLAM_D[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((ACKLAM_A[0] * r + ACKLAM_A[1]) * r + ACKLAM_A[2]) * r + ACKLAM_A[3]) * r + ACKLAM_A[4]) * r +
        ACKLAM_A[5]) *
        q) /
      (((((ACKLAM_B[0] * r + ACKLAM_B[1]) * r + ACKLAM_B[2]) * r + ACKLAM_B[3]) * r + ACKLAM_B[4]) * r + 1);
  }
  for (let i = 0; i < 2; i++) {
    const e = normalCdf(x) - p;
    const u = e / normalPdf(x);
    x -= u / (1 + (x * u) / 2);
  }
  return x;
}

export interface Inversion {
  cdf(x: number): number;
  sf(x: number): number;
  pdf(x: number): number;
  /** Support bounds (may be infinite). */
  lower: number;
  upper: number;
  /** A starting point inside the support. */
  guess: number;
}

/**
 * Solves cdf(x) = p by Newton steps kept inside a shrinking bracket (bisection when a step leaves it).
 * For p > ½ it solves sf(x) = 1 − p instead, so upper-tail quantiles keep their precision.
 */
export function invertCdf(d: Inversion, p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return d.lower;
  if (p === 1) return d.upper;
  const upperTail = p > 0.5;
  const target = upperTail ? 1 - p : p;
  // f(x) increasing in x, zero at the quantile.
  const f = (x: number): number => (upperTail ? target - d.sf(x) : d.cdf(x) - target);
  let lo = d.lower;
  let hi = d.upper;
  let x = d.guess;
  // Find a finite bracket.
  if (!Number.isFinite(hi) || !Number.isFinite(lo)) {
    let step = Math.max(1, Math.abs(x));
    let fx = f(x);
    if (fx < 0) {
      lo = x;
      let h = x + step;
      while (f(h) < 0) {
        lo = h;
        step *= 2;
        h = x + step;
        if (!Number.isFinite(h)) return d.upper;
      }
      hi = h;
    } else {
      hi = x;
      let l = x - step;
      if (Number.isFinite(d.lower) && l <= d.lower) l = d.lower;
      while (l > d.lower && f(l) > 0) {
        hi = l;
        step *= 2;
        l = x - step;
        if (Number.isFinite(d.lower) && l <= d.lower) l = d.lower;
        if (!Number.isFinite(l)) return d.lower;
      }
      lo = l;
    }
    fx = f(x);
  }
  if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
  for (let i = 0; i < 300; i++) {
    const fx = f(x);
    if (fx === 0) return x;
    if (fx < 0) lo = x;
    else hi = x;
    const dens = d.pdf(x);
    let next = dens > 0 && Number.isFinite(dens) ? x - fx / dens : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    const settled = Math.abs(next - x) <= 1e-15 * Math.abs(x) && Math.abs(fx) <= 1e-9 * target;
    if (settled || hi - lo <= 4e-16 * Math.abs(hi)) return next;
    x = next;
  }
  return x;
}

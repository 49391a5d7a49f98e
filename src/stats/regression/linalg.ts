/**
 * The little dense linear algebra regression needs: a Householder QR factorisation of a tall matrix stored
 * column-major in a Float64Array, least-squares solves, and (XᵀX)⁻¹ from R.
 */
import { CroupierError } from '../../errors/index.ts';

export interface QR {
  n: number;
  p: number;
  /** Householder vectors below the diagonal (column-major, n × p); R on and above it. */
  qr: Float64Array;
  /** Householder scalars. */
  tau: Float64Array;
}

/** Column-major copy of row arrays. */
export function toColumnMajor(rows: readonly ArrayLike<number>[], p: number): Float64Array {
  const n = rows.length;
  const a = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) a[j * n + i] = rows[i][j];
  return a;
}

/** QR factorisation; throws CROUPIER_ERR_STATS_SINGULAR when a column is (nearly) a combination of the others. */
export function qrDecompose(a: Float64Array, n: number, p: number, names: readonly string[]): QR {
  const qr = Float64Array.from(a);
  const tau = new Float64Array(p);
  const colNorms = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += qr[j * n + i] ** 2;
    colNorms[j] = Math.sqrt(s);
  }
  for (let k = 0; k < p; k++) {
    const off = k * n;
    let norm = 0;
    for (let i = k; i < n; i++) norm += qr[off + i] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-10 * Math.max(colNorms[k], Number.MIN_VALUE)) || colNorms[k] === 0) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_SINGULAR',
        `column ${names[k] ?? k} of X is constant zero or a linear combination of earlier columns: drop it or the duplicate`,
        { argument: 'X', column: names[k] ?? k },
      );
    }
    const alpha = qr[off + k] > 0 ? -norm : norm;
    const v0 = qr[off + k] - alpha;
    // v = [v0, x_{k+1..n}] normalised so v[0] = 1
    for (let i = k + 1; i < n; i++) qr[off + i] /= v0;
    tau[k] = -v0 / alpha;
    qr[off + k] = alpha;
    for (let j = k + 1; j < p; j++) {
      const oj = j * n;
      let s = qr[oj + k];
      for (let i = k + 1; i < n; i++) s += qr[off + i] * qr[oj + i];
      s *= tau[k];
      qr[oj + k] -= s;
      for (let i = k + 1; i < n; i++) qr[oj + i] -= s * qr[off + i];
    }
  }
  return { n, p, qr, tau };
}

/** Qᵀ b in place (b of length n). */
export function applyQt(f: QR, b: Float64Array): void {
  const { n, p, qr, tau } = f;
  for (let k = 0; k < p; k++) {
    const off = k * n;
    let s = b[k];
    for (let i = k + 1; i < n; i++) s += qr[off + i] * b[i];
    s *= tau[k];
    b[k] -= s;
    for (let i = k + 1; i < n; i++) b[i] -= s * qr[off + i];
  }
}

/** Least-squares solution of X β ≈ y. */
export function solveLeastSquares(f: QR, y: ArrayLike<number>): Float64Array {
  const b = Float64Array.from(y);
  applyQt(f, b);
  const { n, p, qr } = f;
  const beta = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < p; j++) s -= qr[j * n + i] * beta[j];
    beta[i] = s / qr[i * n + i];
  }
  return beta;
}

/** (XᵀX)⁻¹ = R⁻¹ R⁻ᵀ as a row-major p × p array. */
export function inverseGram(f: QR): Float64Array {
  const { n, p, qr } = f;
  const rinv = new Float64Array(p * p); // row-major upper triangular
  for (let i = p - 1; i >= 0; i--) {
    rinv[i * p + i] = 1 / qr[i * n + i];
    for (let j = i + 1; j < p; j++) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += qr[k * n + i] * rinv[k * p + j];
      rinv[i * p + j] = -s / qr[i * n + i];
    }
  }
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let s = 0;
      for (let k = j; k < p; k++) s += rinv[i * p + k] * rinv[j * p + k];
      out[i * p + j] = s;
      out[j * p + i] = s;
    }
  }
  return out;
}

/** Diagonal of the hat matrix: squared row norms of the thin Q, built as H₁⋯H_p [I_p; 0] in O(n p²). */
export function hatDiagonal(f: QR): Float64Array {
  const { n, p, qr, tau } = f;
  const q = new Float64Array(n * p); // column-major thin Q
  for (let j = 0; j < p; j++) q[j * n + j] = 1;
  for (let k = p - 1; k >= 0; k--) {
    const off = k * n;
    for (let j = 0; j < p; j++) {
      const oj = j * n;
      let s = q[oj + k];
      for (let i = k + 1; i < n; i++) s += qr[off + i] * q[oj + i];
      s *= tau[k];
      if (s === 0) continue;
      q[oj + k] -= s;
      for (let i = k + 1; i < n; i++) q[oj + i] -= s * qr[off + i];
    }
  }
  const h = new Float64Array(n);
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) h[i] += q[j * n + i] ** 2;
  return h;
}

/**
 * Slate building: the k best of n candidates by a ranking value, in order, without sorting all n and without
 * allocating. Ties between equal values are broken by an optional key array (random keys make the tie-break
 * uniform), then by index.
 */

/** True when candidate a ranks before candidate b. */
function before(values: Float64Array, keys: Float64Array | null, a: number, b: number): boolean {
  const va = values[a];
  const vb = values[b];
  if (va !== vb) return va > vb;
  if (keys !== null && keys[a] !== keys[b]) return keys[a] > keys[b];
  return a < b;
}

/**
 * Writes the indices of the top `k` of `values[0..n-1]` (descending) into `out[0..k'-1]` and returns
 * k' = min(k, n). Insertion into a sorted prefix: O(n) when few candidates beat the k-th, O(n·k) at worst.
 */
export function selectTopK(
  values: Float64Array,
  keys: Float64Array | null,
  n: number,
  k: number,
  out: Int32Array,
): number {
  const size = Math.min(k, n);
  if (size <= 0) return 0;
  let filled = 0;
  for (let i = 0; i < n; i++) {
    if (filled === size) {
      if (!before(values, keys, i, out[size - 1])) continue;
      filled = size - 1;
    }
    let j = filled;
    while (j > 0 && before(values, keys, i, out[j - 1])) {
      out[j] = out[j - 1];
      j--;
    }
    out[j] = i;
    filled++;
  }
  return size;
}

/**
 * The tie block of candidate `i` in the full descending order of `values[0..n-1]`: how many candidates rank
 * strictly above it (`above`) and how many share its value, itself included (`tied`). Written into `out`.
 */
export function tieBlock(values: Float64Array, n: number, i: number, out: Int32Array): void {
  const v = values[i];
  let above = 0;
  let tied = 0;
  for (let j = 0; j < n; j++) {
    const w = values[j];
    if (w > v) above++;
    else if (w === v) tied++;
  }
  out[0] = above;
  out[1] = tied;
}

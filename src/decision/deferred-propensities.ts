/**
 * Thompson sampling's propensities computed after the reply: `decide` keeps a copy of what they depend on
 * (the candidates' posteriors and the shown slate) and `complete` integrates them later, off the reply's path,
 * or `completeThen` hands them to the propensity thread (propensity-offload.ts) when there is one. Copies are
 * pooled, so a steady stream of decisions allocates little here.
 */
import { thompsonIntegralPropensities } from '../bandit/explorer.ts';
import { integralMethod } from '../bandit/propensity.ts';
import { IntegralScratch } from '../bandit/thompson-integral.ts';
import type { Decision } from '../domain/decision.ts';
import type { PropensityOffload } from './propensity-offload.ts';

interface Held {
  alpha: Float64Array;
  beta: Float64Array;
  shown: Int32Array;
  n: number;
  count: number;
}

export class DeferredPropensities {
  private readonly held = new WeakMap<Decision, Held>();
  private readonly pool: Held[] = [];
  private readonly scratch = new IntegralScratch();
  private out = new Float64Array(16);
  private readonly floor: number | undefined;
  private readonly offload: PropensityOffload | undefined;

  constructor(floor?: number, offload?: PropensityOffload) {
    this.floor = floor;
    this.offload = offload;
  }

  /** True while `decision`'s propensities are still to be computed. */
  pending(decision: Decision): boolean {
    return this.held.has(decision);
  }

  /**
   * Completes `decision`'s propensities and then calls `done`: on the propensity thread when there is one and it
   * keeps up (`done` runs later, on this thread), else here and now.
   */
  completeThen(decision: Decision, done: () => void): void {
    const copy = this.held.get(decision);
    if (copy === undefined || this.offload === undefined) {
      this.complete(decision);
      done();
      return;
    }
    this.held.delete(decision);
    const accepted = this.offload.submit({
      alpha: copy.alpha,
      beta: copy.beta,
      shown: copy.shown,
      n: copy.n,
      count: copy.count,
      floor: this.floor,
      finish: (reply, at) => {
        if (reply === null) {
          this.held.set(decision, copy);
          this.complete(decision);
        } else {
          const items = decision.items;
          for (let s = 0; s < items.length; s++) items[s].propensity = reply[at + s];
          decision.propensity = integralMethod(reply[at + copy.count]);
          decision.timings.propensityUs = reply[at + copy.count + 1];
          this.pool.push(copy);
        }
        done();
      },
    });
    if (!accepted) {
      this.held.set(decision, copy);
      this.complete(decision);
      done();
    }
  }

  /** Keeps what `decision`'s propensities depend on until `complete`. */
  hold(
    decision: Decision,
    alpha: Float64Array,
    beta: Float64Array,
    n: number,
    order: Int32Array,
    count: number,
  ): void {
    let copy = this.pool.pop();
    if (copy === undefined || copy.alpha.length < n || copy.shown.length < count) {
      const size = Math.max(n, copy?.alpha.length ?? 0);
      copy = {
        alpha: new Float64Array(size),
        beta: new Float64Array(size),
        shown: new Int32Array(Math.max(count, copy?.shown.length ?? 0, 16)),
        n: 0,
        count: 0,
      };
    }
    copy.alpha.set(alpha.subarray(0, n));
    copy.beta.set(beta.subarray(0, n));
    copy.shown.set(order.subarray(0, count));
    copy.n = n;
    copy.count = count;
    this.held.set(decision, copy);
  }

  /** Integrates the held decision's propensities into it; a decision not held is left as it is. */
  complete(decision: Decision): void {
    const copy = this.held.get(decision);
    if (copy === undefined) return;
    this.held.delete(decision);
    const start = performance.now();
    if (this.out.length < copy.count) this.out = new Float64Array(copy.count);
    const method = thompsonIntegralPropensities(
      copy.alpha,
      copy.beta,
      copy.n,
      copy.shown,
      copy.count,
      this.scratch,
      this.out,
      this.floor,
    );
    const items = decision.items;
    for (let s = 0; s < items.length; s++) items[s].propensity = this.out[s];
    decision.propensity = { ...method };
    decision.timings.propensityUs = Math.round((performance.now() - start) * 10000) / 10;
    this.pool.push(copy);
  }
}

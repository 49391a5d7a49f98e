/**
 * Per-variant accumulators fed one event at a time while a file streams: counts for rate metrics (a few
 * numbers per variant, whatever the file's size), and growable Float64Arrays for continuous metrics (whose
 * rank tests need every value, 8 bytes each).
 */

export interface RateTally {
  successes: number;
  trials: number;
}

/** Successes out of trials per variant; a value is a success when it is 1, true, "1" or "true". */
export class RateTallies {
  readonly byVariant = new Map<string, RateTally>();

  /** Adds one event; false when the value is not a 0/1 outcome. */
  add(variant: string, value: unknown): boolean {
    let success: number;
    if (value === 1 || value === true || value === '1' || value === 'true') success = 1;
    else if (value === 0 || value === false || value === '0' || value === 'false') success = 0;
    else return false;
    const tally = this.byVariant.get(variant);
    if (tally === undefined) this.byVariant.set(variant, { successes: success, trials: 1 });
    else {
      tally.successes += success;
      tally.trials++;
    }
    return true;
  }

  /** Turns one of the variant's trials into a success (an impression answered by a click later on). */
  addSuccess(variant: string): void {
    const tally = this.byVariant.get(variant);
    if (tally !== undefined && tally.successes < tally.trials) tally.successes++;
  }
}

class GrowableSample {
  data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Every finite value per variant (numbers or numeric strings). */
export class ContinuousTallies {
  private readonly samples = new Map<string, GrowableSample>();

  add(variant: string, value: unknown): boolean {
    const x =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && value.trim() !== ''
          ? Number(value)
          : Number.NaN;
    if (!Number.isFinite(x)) return false;
    let sample = this.samples.get(variant);
    if (sample === undefined) {
      sample = new GrowableSample();
      this.samples.set(variant, sample);
    }
    sample.push(x);
    return true;
  }

  get byVariant(): Map<string, Float64Array> {
    return new Map([...this.samples].map(([name, s]) => [name, s.values()]));
  }
}

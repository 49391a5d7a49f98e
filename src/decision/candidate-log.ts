/**
 * Candidate-set logging: for a sampled share of decisions (`log.candidateSampleRate`) the decider keeps a copy of
 * every candidate, the model's p̂ of it and the arm counts the policy read, with the posterior settings in force.
 * The copy is a few typed-array copies when the decision is made; the `CandidateSet` the Carousel record carries is
 * built from it when the record is written, after the reply (src/gateway/event-records.ts). With it a shadow test
 * replays any policy of (p̂, counts) on the logged decision (src/shadow).
 */
import type { Tempering } from '../bandit/posterior.ts';
import type { CandidateSet, PendingCandidateSet } from '../domain/candidate-set.ts';
import type { Decision, ItemInfo } from '../domain/decision.ts';
import { CroupierError } from '../errors/index.ts';
import { createRng, type Rng } from '../stats/rng.ts';

export interface CandidateLogOptions {
  /** Share of decisions whose candidate set is logged, in [0, 1]. */
  sampleRate: number;
}

/** The posterior settings a decision's policy ranked with. */
export interface CandidateSettings {
  priorStrength: number;
  /** Thompson sampling's tempering; absent: none. */
  tempering: Tempering | undefined;
  epsilon: number;
  ucbC: number;
}

class HeldCandidates implements PendingCandidateSet {
  private built: CandidateSet | null = null;

  constructor(
    private readonly items: readonly ItemInfo[],
    private readonly scores: Float32Array,
    private readonly impressions: Float64Array,
    private readonly clicks: Float64Array,
    private readonly settings: CandidateSettings,
  ) {}

  resolve(): CandidateSet {
    if (this.built !== null) return this.built;
    const n = this.items.length;
    const itemIds = new Array<string>(n);
    for (let i = 0; i < n; i++) itemIds[i] = this.items[i].itemId;
    this.built = {
      itemIds,
      scores: Array.from(this.scores),
      impressions: Array.from(this.impressions),
      clicks: Array.from(this.clicks),
      priorStrength: this.settings.priorStrength,
      temperature: this.settings.tempering?.temperature ?? 1,
      temperingImpressions: this.settings.tempering?.impressions ?? 1,
      epsilon: this.settings.epsilon,
      ucbC: this.settings.ucbC,
      shadowModelVersion: null,
      shadowScores: null,
    };
    return this.built;
  }
}

export class CandidateLog {
  private readonly rate: number;
  private readonly rng: Rng;

  constructor(options: CandidateLogOptions, seed: number) {
    if (!(options.sampleRate >= 0 && options.sampleRate <= 1)) {
      throw new CroupierError(
        'CROUPIER_ERR_DECISION_INVALID',
        `log.candidateSampleRate must lie in [0, 1], got ${options.sampleRate}`,
        { sampleRate: options.sampleRate },
      );
    }
    this.rate = options.sampleRate;
    this.rng = createRng((seed ^ 0x2c1b3c6d) >>> 0);
  }

  /**
   * Draws whether `decision` logs its candidate set and, if so, keeps a copy of its n candidates, their p̂ and the
   * arm counts (`impressions`, `clicks`) in `decision.candidates`.
   */
  hold(
    decision: Decision,
    candidates: readonly ItemInfo[],
    n: number,
    scores: Float32Array,
    impressions: Float64Array,
    clicks: Float64Array,
    settings: CandidateSettings,
  ): void {
    if (this.rate === 0 || n === 0 || (this.rate < 1 && this.rng.next() >= this.rate)) return;
    decision.candidates = new HeldCandidates(
      candidates.slice(0, n),
      scores.slice(0, n),
      impressions.slice(0, n),
      clicks.slice(0, n),
      settings,
    );
  }
}

/**
 * Candidate-set logging: for a sampled share of decisions (`log.candidateSampleRate`) the decider keeps a copy of
 * every candidate, the model's p̂ of it and the arm counts the policy read, with the posterior settings in force.
 * The copy is a few typed-array copies when the decision is made; the `CandidateSet` the Carousel record carries is
 * built from it when the record is written, after the reply (src/gateway/event-records.ts). With it a shadow test
 * replays any policy of (p̂, counts) on the logged decision (src/shadow).
 *
 * With a shadow model (`model.shadowVersion`) the copy also keeps the candidates' feature rows, and `shadowScores`
 * scores them with that model once the reply is on its way: the set then carries the shadow model's p̂ too, so a
 * shadow test evaluates the policy with the candidate model. Only the sampled share pays for it.
 */
import { priorMean, type Tempering } from '../bandit/posterior.ts';
import type { CandidateSet, PendingCandidateSet } from '../domain/candidate-set.ts';
import type { Decision, ItemInfo } from '../domain/decision.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ShadowModel } from '../scoring/shadow-model.ts';
import { createRng, type Rng } from '../stats/rng.ts';

export interface CandidateLogOptions {
  /** Share of decisions whose candidate set is logged, in [0, 1]. */
  sampleRate: number;
  /** Also scores each logged set with this model (`model.shadowVersion`), after the reply. */
  shadowModel?: ShadowModel;
}

/** The posterior settings a decision's policy ranked with. */
export interface CandidateSettings {
  priorStrength: number;
  /** Thompson sampling's tempering; absent: none. */
  tempering: Tempering | undefined;
  epsilon: number;
  ucbC: number;
}

/** The candidates' feature rows, held until the shadow model scored them. */
interface ShadowRows {
  model: ShadowModel;
  rows: Float32Array;
}

class HeldCandidates implements PendingCandidateSet {
  private built: CandidateSet | null = null;
  private shadowScored: Promise<void> | null = null;
  private shadowVersion: string | null = null;
  private shadowScores: Float32Array | null = null;

  constructor(
    private readonly items: readonly ItemInfo[],
    private readonly scores: Float32Array,
    private readonly impressions: Float64Array,
    private readonly clicks: Float64Array,
    private readonly settings: CandidateSettings,
    private shadow: ShadowRows | null,
  ) {}

  /**
   * Scores the candidates with the shadow model, once; resolves when done. A failed run leaves the set without
   * shadow scores (reported to `onError`): the carousel is logged all the same.
   */
  scoreShadow(onError: (error: unknown, version: string) => void): Promise<void> {
    if (this.shadowScored !== null) return this.shadowScored;
    const shadow = this.shadow;
    if (shadow === null) return Promise.resolve();
    this.shadowScored = shadow.model.score(shadow.rows, this.items.length).then(
      (scores) => {
        this.shadowVersion = shadow.model.version;
        this.shadowScores = scores;
        // A set already built (a record queued before the scores came) gets them too.
        if (this.built !== null) {
          this.built.shadowModelVersion = this.shadowVersion;
          this.built.shadowScores = Array.from(scores, priorMean);
        }
      },
      (error: unknown) => onError(error, shadow.model.version),
    );
    this.shadow = null;
    return this.shadowScored;
  }

  resolve(): CandidateSet {
    if (this.built !== null) return this.built;
    const n = this.items.length;
    const itemIds = new Array<string>(n);
    for (let i = 0; i < n; i++) itemIds[i] = this.items[i].itemId;
    this.built = {
      itemIds,
      // The p̂ the policy ranked with: a model score outside [0, 1] (NaN on a live row) as the posteriors took it,
      // so a shadow test replays the same posteriors and never reads NaN.
      scores: Array.from(this.scores, priorMean),
      impressions: Array.from(this.impressions),
      clicks: Array.from(this.clicks),
      priorStrength: this.settings.priorStrength,
      temperature: this.settings.tempering?.temperature ?? 1,
      temperingImpressions: this.settings.tempering?.impressions ?? 1,
      epsilon: this.settings.epsilon,
      ucbC: this.settings.ucbC,
      shadowModelVersion: this.shadowVersion,
      shadowScores: this.shadowScores === null ? null : Array.from(this.shadowScores, priorMean),
    };
    return this.built;
  }
}

export class CandidateLog {
  private readonly rate: number;
  private readonly rng: Rng;
  private readonly shadowModel: ShadowModel | null;
  private readonly onShadowError: (error: unknown, version: string) => void;

  constructor(options: CandidateLogOptions, seed: number, logger: Logger) {
    if (!(options.sampleRate >= 0 && options.sampleRate <= 1)) {
      throw new CroupierError(
        'CROUPIER_ERR_DECISION_INVALID',
        `log.candidateSampleRate must lie in [0, 1], got ${options.sampleRate}`,
        { sampleRate: options.sampleRate },
      );
    }
    this.rate = options.sampleRate;
    this.rng = createRng((seed ^ 0x2c1b3c6d) >>> 0);
    this.shadowModel = options.shadowModel ?? null;
    this.onShadowError = (error, version) =>
      logger.warn(
        { err: error, version },
        'the shadow model failed to score a candidate set; logged without it',
      );
  }

  /**
   * Draws whether `decision` logs its candidate set and, if so, keeps a copy of its n candidates, their p̂ and the
   * arm counts (`impressions`, `clicks`) in `decision.candidates`, and of their feature rows (`rows`, n × `width`)
   * when there is a shadow model to score them.
   */
  hold(
    decision: Decision,
    candidates: readonly ItemInfo[],
    n: number,
    scores: Float32Array,
    rows: Float32Array,
    width: number,
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
      this.shadowModel === null ? null : { model: this.shadowModel, rows: rows.slice(0, n * width) },
    );
  }

  /**
   * Scores `decision`'s held candidate set with the shadow model (once; call it after the reply); null when there
   * is no shadow model or no set.
   */
  scoreShadow(decision: Decision): Promise<void> | null {
    const held = decision.candidates;
    return this.shadowModel !== null && held instanceof HeldCandidates
      ? held.scoreShadow(this.onShadowError)
      : null;
  }
}

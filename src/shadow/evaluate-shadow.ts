/**
 * A shadow test: candidate policies (and candidate models) evaluated on logged carousels that carry their
 * candidate sets, against the policy that logged them. For each candidate and reward (CTR, conversions and
 * watch seconds per impression): IPS, SNIPS and doubly robust estimates with bootstrap intervals resampled by
 * carousel, the lift over the logged policy with its interval, weight diagnostics, and a verdict. Pure: the
 * promotion gate, the CLI and the tests call `evaluateShadow` on carousels read from wherever they are.
 *
 * The reward model of DR is the serving model's p̂ adjusted by position: r̂(i, s) = p̂ᵢ·e(s), with e(s) the
 * log's reward in slot s over the p̂ shown there (per reward), so a miscalibrated model is corrected slot by slot.
 * The position-based estimators (position-based.ts) read each shown item's probability of every slot under the
 * logging policy and the candidate, replayed on the logged decision.
 */
import { CroupierError } from '../errors/index.ts';
import { createRng } from '../stats/rng.ts';
import {
  type BootstrapResult,
  bootstrapEstimates,
  type EstimatorName,
  type Interval,
  type WeightDiagnostics,
  type WeightedImpressions,
  weightDiagnostics,
} from './estimators.ts';
import { type LoggedCarousel, METRICS, type Metric, rewardsOf } from './logged-carousel.ts';
import { loggedCarouselProblem } from './logged-carousel-check.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from './policy-replay.ts';
import type { CandidateSpec } from './policy-spec.ts';
import { estimateExamination, type PositionBasedRows, positionBasedWeights } from './position-based.ts';

export interface ShadowOptions {
  /** Bootstrap resamples (default 500). */
  replicates?: number;
  /** Confidence of intervals and verdicts (default 0.95). */
  confidence?: number;
  /** Seed of the bootstrap and of the candidates' dealt slates (default 1). */
  seed?: number;
  /** Clip importance weights at this value (default: no clipping). */
  maxWeight?: number;
  /** The estimator the verdict reads (default 'dr'). */
  verdictEstimator?: EstimatorName;
  /**
   * The rewards that get bootstrap intervals (default all of METRICS); the others get their point estimates only,
   * with NaN intervals (a caller that reads one reward need not pay for the rest).
   */
  intervalsFor?: readonly Metric[];
  /**
   * Check how much of each candidate's probability mass falls where the logging policy (nearly) never plays:
   * replays the logging policy on one slate the candidate deals per carousel (default true).
   */
  supportCheck?: boolean;
}

export interface CandidateDiagnostics {
  /** Kish's effective sample size over the evaluated impressions. */
  effectiveSampleSize: number;
  largestWeight: number;
  meanWeight: number;
  /** Share of the candidate's dealt (item, slot) pairs the logging policy gives less than 1e-4. */
  outsideSupport: number | null;
  /** Clipping in force (null: none) and the share of impressions it clipped. */
  clippedAt: number | null;
  clippedShare: number;
  /** The position-based estimators' weights π_b(a)/μ_b(a) (never clipped): effective sample size, largest, mean. */
  positionBased: WeightDiagnostics;
}

export type VerdictKind = 'better' | 'worse' | 'not distinguishable';

export interface Verdict {
  kind: VerdictKind;
  /** The estimator and reward it reads. */
  estimator: EstimatorName;
  /** More carousels with candidate sets that would likely decide it at this lift (0 when decided; null: no lift seen). */
  moreCarousels: number | null;
  /**
   * False when more than 5 % of the candidate's mass falls where the logging policy (nearly) never plays: no
   * estimator sees what happens there (IPS and SNIPS miss it, DR leans on the reward model), so the verdict is
   * only as good as that.
   */
  supported: boolean;
  text: string;
}

/** Largest share of a candidate's mass outside the log's support with which a verdict stands on the data. */
const SUPPORT_TOLERANCE = 0.05;

function withSupport(verdict: Omit<Verdict, 'supported'>, outsideSupport: number | null): Verdict {
  if (outsideSupport === null || outsideSupport <= SUPPORT_TOLERANCE) return { ...verdict, supported: true };
  return {
    ...verdict,
    supported: false,
    text: `${verdict.text}; CAUTION: ${(100 * outsideSupport).toFixed(1)} % of its (item, slot) mass lies where the logging policy never plays, so the estimates disagree and lean on the reward model there`,
  };
}

export interface CandidateReport {
  label: string;
  spec: CandidateSpec;
  metrics: Record<Metric, BootstrapResult>;
  diagnostics: CandidateDiagnostics;
  verdict: Verdict;
}

export interface ShadowReport {
  carousels: {
    read: number;
    /** Carousels with a usable candidate set: the ones every estimate uses. */
    evaluated: number;
    withoutCandidates: number;
    /**
     * Damaged carousels (logged-carousel-check.ts): a shown item missing from its candidate set, a propensity
     * outside [1e-12, 1], a candidate set with a field missing or out of range, an unknown logging policy.
     */
    unusable: number;
    /** The first unusable carousel and why; null when none. */
    firstUnusable: { requestId: string; problem: string } | null;
  };
  impressions: number;
  /** The logging policies seen and the logged reward per impression on the evaluated carousels. */
  logged: { policies: string[]; metrics: Record<Metric, Interval> };
  candidates: CandidateReport[];
  /**
   * `examination`: e(s) per reward, the DR reward model's slot factor; `positionBias`: the examination curve the
   * position-based estimators estimated from the log's clicks (b(0) = 1).
   */
  rewardModel: { examination: Record<Metric, number[]>; positionBias: number[] };
  settings: { replicates: number; confidence: number; seed: number; maxWeight: number | null };
}

/** Smallest logging probability that counts as support. */
const SUPPORT_FLOOR = 1e-4;

interface Usable {
  carousel: LoggedCarousel;
  /** Candidate index of each shown slot. */
  shown: Int32Array;
}

function usableCarousels(
  carousels: readonly LoggedCarousel[],
): Omit<ShadowReport['carousels'], 'read' | 'evaluated'> & { usable: Usable[] } {
  const usable: Usable[] = [];
  let withoutCandidates = 0;
  let unusable = 0;
  let firstUnusable: ShadowReport['carousels']['firstUnusable'] = null;
  const index = new Map<string, number>();
  for (const carousel of carousels) {
    if (carousel.candidates === null || carousel.items.length === 0) {
      withoutCandidates++;
      continue;
    }
    const problem = loggedCarouselProblem(carousel, index);
    if (problem !== null) {
      unusable++;
      firstUnusable ??= { requestId: carousel.requestId, problem };
      continue;
    }
    const shown = new Int32Array(carousel.items.length);
    carousel.items.forEach((item, s) => {
      shown[s] = index.get(item.itemId)!;
    });
    usable.push({ carousel, shown });
  }
  return { usable, withoutCandidates, unusable, firstUnusable };
}

/** e(s) per reward: the log's reward in slot s over the serving model's p̂ shown there. */
function examination(usable: readonly Usable[]): Record<Metric, number[]> {
  const out = {} as Record<Metric, number[]>;
  for (const metric of METRICS) {
    const reward: number[] = [];
    const score: number[] = [];
    for (const { carousel } of usable) {
      const r = rewardsOf(carousel, metric);
      carousel.items.forEach((item, s) => {
        reward[s] = (reward[s] ?? 0) + (r[s] ?? 0);
        score[s] = (score[s] ?? 0) + item.score;
      });
    }
    out[metric] = reward.map((x, s) => (score[s] > 0 ? x / score[s] : 0));
  }
  return out;
}

function targetScores(spec: CandidateSpec, carousel: LoggedCarousel): readonly number[] {
  const set = carousel.candidates!;
  if (spec.model === undefined || spec.model === carousel.modelVersion) return set.scores;
  if (set.shadowScores === null || set.shadowModelVersion !== spec.model) {
    throw new CroupierError(
      'CROUPIER_ERR_SHADOW_INPUT',
      `candidate '${spec.label}' needs the scores of model ${spec.model}, but carousel ${carousel.requestId} logged ${
        set.shadowModelVersion === null ? 'no shadow scores' : `shadow scores of ${set.shadowModelVersion}`
      }: set model.shadowVersion=${spec.model} on the gateway and evaluate the carousels logged after that`,
      { requestId: carousel.requestId, model: spec.model },
    );
  }
  return set.shadowScores;
}

function verdictOf(
  lift: Interval,
  estimator: EstimatorName,
  carousels: number,
  confidence: number,
): Omit<Verdict, 'supported'> {
  const level = `${Math.round(confidence * 100)} %`;
  const [lo, hi] = lift.ci;
  const pct = (x: number) => `${(100 * x).toFixed(3)} pp`;
  if (lo > 0 || hi < 0) {
    const kind: VerdictKind = lo > 0 ? 'better' : 'worse';
    return {
      kind,
      estimator,
      moreCarousels: 0,
      text: `${kind} than the logged policy at ${level} (${estimator.toUpperCase()} lift ${pct(lift.estimate)}, interval [${pct(lo)}, ${pct(hi)}])`,
    };
  }
  const half = (hi - lo) / 2;
  const effect = Math.abs(lift.estimate);
  const more = effect > 0 && half > 0 ? Math.ceil(carousels * ((half / effect) ** 2 - 1)) : null;
  return {
    kind: 'not distinguishable',
    estimator,
    moreCarousels: more === null ? null : Math.max(more, 1),
    text:
      more === null
        ? `not distinguishable at ${level}: no lift seen`
        : `not distinguishable at ${level} (${estimator.toUpperCase()} lift ${pct(lift.estimate)}); about ${Math.max(more, 1).toLocaleString('en')} more carousels with candidate sets would decide a lift this size`,
  };
}

/**
 * Evaluates each candidate on the carousels that logged their candidate sets. Throws CROUPIER_ERR_SHADOW_NO_DATA
 * when none did, CROUPIER_ERR_SHADOW_INPUT when a candidate model's scores are not in the log.
 */
export function evaluateShadow(
  carousels: readonly LoggedCarousel[],
  candidates: readonly CandidateSpec[],
  options: ShadowOptions = {},
): ShadowReport {
  const replicates = options.replicates ?? 500;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 1;
  const estimator = options.verdictEstimator ?? 'dr';
  const { usable, withoutCandidates, unusable, firstUnusable } = usableCarousels(carousels);
  if (usable.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_SHADOW_NO_DATA',
      carousels.length === 0
        ? 'the input holds no carousels: check the archive window (--from/--to) or the recording'
        : `none of the ${carousels.length} carousels carries a usable candidate set (${withoutCandidates} without one, ${unusable} unusable${
            firstUnusable === null ? '' : `, the first ${firstUnusable.requestId}: ${firstUnusable.problem}`
          }): ${
            withoutCandidates > 0
              ? 'log them with log.candidateSampleRate > 0 on the gateway'
              : 'the input is damaged; record it again or check what wrote it'
          }`,
      { read: carousels.length, withoutCandidates, unusable },
    );
  }
  const impressions = usable.reduce((sum, u) => sum + u.shown.length, 0);
  const carouselOf = new Int32Array(impressions);
  const slotOf = new Int32Array(impressions);
  const rewards = {} as Record<Metric, Float64Array>;
  const loggedScore = new Float64Array(impressions);
  for (const metric of METRICS) rewards[metric] = new Float64Array(impressions);
  let j = 0;
  usable.forEach(({ carousel }, c) => {
    for (let s = 0; s < carousel.items.length; s++, j++) {
      carouselOf[j] = c;
      slotOf[j] = s;
      loggedScore[j] = carousel.items[s].score;
      for (const metric of METRICS) rewards[metric][j] = rewardsOf(carousel, metric)[s] ?? 0;
    }
  });
  const exam = examination(usable);
  const replay = new PolicyReplay();
  const width = usable.reduce((most, u) => Math.max(most, u.shown.length), 0);
  const loggingRows = new Float64Array(impressions * width);
  const loggingRng = createRng(seed);
  j = 0;
  for (const { carousel, shown } of usable) {
    const set = carousel.candidates!;
    replay.load(set, set.scores, loggedPolicy(carousel.policy, set));
    replay.slotRows(shown, shown.length, loggingRng, loggingRows.subarray(j * width), width);
    j += shown.length;
  }
  const examinationScratch = new Float64Array(2 * width);
  const positionBias = estimateExamination(
    { width, logging: loggingRows, clicks: rewards.ctr } as PositionBasedRows,
    carouselOf,
    slotOf,
    null,
    examinationScratch,
    new Float64Array(width),
  );
  const report: CandidateReport[] = [];
  let loggedIntervals: Record<Metric, Interval> | null = null;
  for (const [k, spec] of candidates.entries()) {
    const rng = createRng((seed + 7919 * (k + 1)) >>> 0);
    const weight = new Float64Array(impressions);
    const expected = new Float64Array(impressions);
    const targetRows = new Float64Array(impressions * width);
    let outside = 0;
    let dealt = 0;
    let clipped = 0;
    let probabilities = new Float64Array(16);
    let slotScores = new Float64Array(16);
    j = 0;
    for (const { carousel, shown } of usable) {
      const set = carousel.candidates!;
      const count = shown.length;
      if (probabilities.length < count) {
        probabilities = new Float64Array(count);
        slotScores = new Float64Array(count);
      }
      const logging = loggedPolicy(carousel.policy, set);
      replay.load(set, targetScores(spec, carousel), resolvePolicy(spec, logging));
      replay.slotRows(shown, count, rng, targetRows.subarray(j * width), width);
      const slate = Int32Array.from(
        replay.expectedScores(count, set.scores, rng, slotScores).subarray(0, count),
      );
      for (let s = 0; s < count; s++, j++) {
        let w = targetRows[j * width + s] / carousel.items[s].propensity;
        if (options.maxWeight !== undefined && w > options.maxWeight) {
          w = options.maxWeight;
          clipped++;
        }
        weight[j] = w;
        expected[j] = slotScores[s];
      }
      if (options.supportCheck !== false) {
        replay.load(set, set.scores, logging);
        replay.probabilities(slate, count, rng, probabilities);
        for (let s = 0; s < count; s++) if (probabilities[s] < SUPPORT_FLOOR) outside++;
        dealt += count;
      }
    }
    const positionBased: PositionBasedRows = {
      width,
      logging: loggingRows,
      target: targetRows,
      clicks: rewards.ctr,
      score: loggedScore,
      expectedScore: expected,
    };
    const metrics = {} as Record<Metric, BootstrapResult>;
    for (const metric of METRICS) {
      const e = exam[metric];
      const log: WeightedImpressions = {
        positionBased,
        carousels: usable.length,
        carousel: carouselOf,
        slot: slotOf,
        weight,
        reward: rewards[metric],
        rewardModel: loggedScore.map((p, i) => p * (e[slotOf[i]] ?? 0)),
        direct: expected.map((p, i) => p * (e[slotOf[i]] ?? 0)),
      };
      const resamples =
        options.intervalsFor === undefined || options.intervalsFor.includes(metric) ? replicates : 0;
      metrics[metric] = bootstrapEstimates(log, { replicates: resamples, confidence, seed });
    }
    loggedIntervals ??= {
      ctr: metrics.ctr.estimates.logged,
      conversions: metrics.conversions.estimates.logged,
      watchSeconds: metrics.watchSeconds.estimates.logged,
    };
    const outsideSupport = dealt > 0 ? outside / dealt : null;
    report.push({
      label: spec.label,
      spec,
      metrics,
      diagnostics: {
        ...weightDiagnostics(weight),
        outsideSupport,
        clippedAt: options.maxWeight ?? null,
        clippedShare: clipped / impressions,
        positionBased: weightDiagnostics(
          positionBasedWeights(positionBased, impressions, positionBias, new Float64Array(impressions)),
        ),
      },
      verdict: withSupport(
        verdictOf(metrics.ctr.lift[estimator], estimator, usable.length, confidence),
        outsideSupport,
      ),
    });
  }
  return {
    carousels: {
      read: carousels.length,
      evaluated: usable.length,
      withoutCandidates,
      unusable,
      firstUnusable,
    },
    impressions,
    logged: {
      policies: [...new Set(usable.map((u) => u.carousel.policy))],
      metrics:
        loggedIntervals ?? loggedOnly(usable, carouselOf, slotOf, rewards, replicates, confidence, seed),
    },
    candidates: report,
    rewardModel: { examination: exam, positionBias: Array.from(positionBias) },
    settings: { replicates, confidence, seed, maxWeight: options.maxWeight ?? null },
  };
}

/** The logged policy's intervals when no candidate was asked for. */
function loggedOnly(
  usable: readonly Usable[],
  carousel: Int32Array,
  slot: Int32Array,
  rewards: Record<Metric, Float64Array>,
  replicates: number,
  confidence: number,
  seed: number,
): Record<Metric, Interval> {
  const n = carousel.length;
  const ones = new Float64Array(n).fill(1);
  const zeros = new Float64Array(n);
  const out = {} as Record<Metric, Interval>;
  for (const metric of METRICS) {
    out[metric] = bootstrapEstimates(
      {
        carousels: usable.length,
        carousel,
        slot,
        weight: ones,
        reward: rewards[metric],
        rewardModel: zeros,
        direct: zeros,
      },
      { replicates, confidence, seed },
    ).estimates.logged;
  }
  return out;
}

/**
 * Logged traffic whose truth is known: a seeded world served in process by the gateway's decision core
 * (Thompson sampling or another policy over the model-informed posteriors, with propensities integrated as the
 * gateway logs them, and the arm counts kept as the topology folds them: raw, or examination-weighted with
 * `stream.positionBias`), every carousel logged with its candidate set and outcomes, as `LoggedCarousel`s and,
 * optionally, as a recording in the format of a run against the gateway.
 *
 * For candidate policies it also measures the truth a shadow test estimates: at every logged decision, the
 * candidate deals its own slate from the same state (the same candidates, p̂ and arm counts) and the world's
 * click model gives that slate's expected clicks. Their mean per impression is the candidate's on-policy CTR in
 * the same world, seed and state.
 */
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import type { Tempering } from '../../src/bandit/posterior.ts';
import type { CandidateSet } from '../../src/domain/candidate-set.ts';
import type { PolicyName } from '../../src/domain/policy-names.ts';
import type { CarouselMessage } from '../../src/domain/protocol-messages.ts';
import type { LoggedCarousel } from '../../src/shadow/logged-carousel.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from '../../src/shadow/policy-replay.ts';
import type { CandidateSpec } from '../../src/shadow/policy-spec.ts';
import { createRng } from '../../src/stats/rng.ts';
import { examinationProbability } from '../../streams/fold/position-bias.ts';
import type { RecordingWriter } from '../replay/recording.ts';
import type { SimItem } from '../world/population.ts';
import type { Scenario } from '../world/scenario.ts';
import { createWorld } from '../world/world.ts';

export interface LoggedRunOptions {
  scenario: Scenario;
  seed?: number;
  /** Simulated seconds (default: the scenario's duration). */
  durationSeconds?: number;
  /** Stop after this many carousels (default: no limit). */
  maxCarousels?: number;
  /** The logging policy (default thompson). */
  policy?: PolicyName;
  priorStrength?: number;
  tempering?: Tempering;
  epsilon?: number;
  ucbC?: number;
  /**
   * The position-bias model's examination probability per slot (`examinationTable(stream.positionBias)`): an
   * impression in slot s adds e(s) to its arm's impressions and a click the missing 1 − e(s), as the topology
   * folds them. Absent: raw impression counts.
   */
  examination?: readonly number[];
  /** Share of carousels that log their candidate set (default 1). */
  candidateSampleRate?: number;
  /** Candidates whose on-policy CTR to measure at every logged decision. */
  truthFor?: readonly CandidateSpec[];
  /** Writes the run as a recording (request, response with propensities and candidate set, feedback). */
  recorder?: RecordingWriter | null;
}

export interface LoggedRun {
  seed: number;
  carousels: LoggedCarousel[];
  /** The logging policy's expected CTR per impression (from the click model) on the logged slates. */
  loggedCtr: number;
  /** Each candidate's on-policy CTR per impression, by label, over the carousels that logged candidate sets. */
  truth: Record<string, number>;
}

const POLICY_STREAM = 7_000_003;
const RESPONSE_STREAM = 9_000_011;
const SAMPLE_STREAM = 11_000_027;
const TRUTH_STREAM = 13_000_049;
const MODEL_VERSION = 'simulator';

/** Plays the world under the logging policy and logs every carousel (see the file comment). */
export function runLoggedTraffic(options: LoggedRunOptions): LoggedRun {
  const seed = options.seed ?? options.scenario.seed;
  const world = createWorld(options.scenario, { seed });
  const duration = options.durationSeconds ?? world.durationSeconds;
  const policy = options.policy ?? 'thompson';
  const priorStrength = options.priorStrength ?? 20;
  const tempering = options.tempering ?? { temperature: 1, impressions: 1 };
  const params = { epsilon: options.epsilon ?? 0.1, ucbC: options.ucbC ?? 1 };
  const sampleRate = options.candidateSampleRate ?? 1;
  const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 });
  const policyRng = createRng(seed + POLICY_STREAM);
  const propensityRng = createRng(seed + POLICY_STREAM + 1);
  const responses = createRng(seed + RESPONSE_STREAM);
  const sampler = createRng(seed + SAMPLE_STREAM);
  const truthRng = createRng(seed + TRUTH_STREAM);
  const replay = new PolicyReplay();
  const truthFor = options.truthFor ?? [];
  const truthSums = new Float64Array(truthFor.length);
  let truthImpressions = 0;
  let loggedExpected = 0;
  let loggedImpressions = 0;
  const counts = new Map<string, { impressions: number; clicks: number }>();
  const arm = (segment: number, itemId: string) => {
    const key = `${segment}|${itemId}`;
    let entry = counts.get(key);
    if (entry === undefined) {
      entry = { impressions: 0, clicks: 0 };
      counts.set(key, entry);
    }
    return entry;
  };
  let scores = new Float32Array(256);
  const carousels: LoggedCarousel[] = [];
  const recorder = options.recorder ?? null;
  recorder?.write({
    kind: 'meta',
    scenario: options.scenario.name,
    seed,
    url: 'in-process',
    startedAt: new Date(0).toISOString(),
  });
  let requests = 0;
  outer: for (;;) {
    const session = world.nextSession();
    if (session.at >= duration) break;
    world.advance(session.at);
    const user = session.user;
    for (let r = 0; r < session.requests; r++) {
      if (options.maxCarousels !== undefined && carousels.length >= options.maxCarousels) break outer;
      const candidates: readonly SimItem[] = world.liveItems();
      const n = candidates.length;
      if (n === 0) continue;
      explorer.ensure(n);
      if (scores.length < n) scores = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const item = candidates[i];
        scores[i] = world.modelScore(user.segment, item);
        const counted = arm(user.segment, item.itemId);
        explorer.impressions[i] = counted.impressions;
        explorer.clicks[i] = counted.clicks;
      }
      explorer.preparePosteriors(scores, priorStrength, n, tempering);
      const count = explorer.rank(policy, n, world.slots, params, policyRng);
      explorer.computePropensities(policy, n, count, params, propensityRng);
      const slate = Array.from(explorer.order.subarray(0, count), (i) => candidates[i]);
      const logged = sampler.next() < sampleRate;
      const set: CandidateSet | null = logged
        ? {
            itemIds: candidates.map((item) => item.itemId),
            scores: Array.from(scores.subarray(0, n)),
            impressions: Array.from(explorer.impressions.subarray(0, n)),
            clicks: Array.from(explorer.clicks.subarray(0, n)),
            priorStrength,
            temperature: tempering.temperature,
            temperingImpressions: tempering.impressions,
            epsilon: params.epsilon,
            ucbC: params.ucbC,
            shadowModelVersion: null,
            shadowScores: null,
          }
        : null;
      const requestId = `r${seed}-${requests++}`;
      const items = slate.map((item, s) => ({
        itemId: item.itemId,
        slot: s,
        score: scores[explorer.order[s]],
        propensity: explorer.propensities[s],
        shadowPropensity: null,
      }));
      const outcomes = world.model.respond(responses, user, slate);
      loggedExpected += world.model.expectedClicks(user, slate);
      loggedImpressions += count;
      if (set !== null) {
        truthFor.forEach((spec, k) => {
          replay.load(set, set.scores, resolvePolicy(spec, loggedPolicy(policy, set)));
          const order = replay.deal(count, truthRng);
          const theirs = Array.from(order.subarray(0, count), (i) => candidates[i]);
          truthSums[k] += world.model.expectedClicks(user, theirs);
        });
        truthImpressions += count;
      }
      const carousel: LoggedCarousel = {
        requestId,
        userId: user.userId,
        timestamp: session.at * 1000,
        policy,
        modelVersion: MODEL_VERSION,
        shadowPolicy: null,
        items,
        candidates: set,
        clicks: outcomes.map((o) => (o.clicked ? 1 : 0)),
        conversions: outcomes.map((o) => (o.converted ? 1 : 0)),
        watchSeconds: outcomes.map((o) => o.watchMs / 1000),
      };
      carousels.push(carousel);
      if (recorder !== null) record(recorder, carousel, user.userId, session.device);
      for (let s = 0; s < count; s++) {
        const counted = arm(user.segment, slate[s].itemId);
        const clicked = outcomes[s].clicked;
        counted.impressions += clicked ? 1 : examinationProbability(options.examination, s);
        if (clicked) counted.clicks += 1;
      }
    }
  }
  const truth: Record<string, number> = {};
  truthFor.forEach((spec, k) => {
    truth[spec.label] = truthImpressions > 0 ? truthSums[k] / truthImpressions : Number.NaN;
  });
  return { seed, carousels, loggedCtr: loggedExpected / Math.max(1, loggedImpressions), truth };
}

/** The carousel as a run against the gateway records it: request, response (with candidate set), feedback. */
function record(recorder: RecordingWriter, carousel: LoggedCarousel, userId: string, device: string): void {
  const t = carousel.timestamp;
  recorder.write({
    kind: 'request',
    t,
    userId,
    request: {
      type: 'carousel',
      requestId: carousel.requestId,
      slots: carousel.items.length,
      context: { device },
    },
  });
  const response: CarouselMessage = {
    type: 'carousel',
    requestId: carousel.requestId,
    items: carousel.items.map((item) => ({
      itemId: item.itemId,
      title: item.itemId,
      slot: item.slot,
      score: item.score,
      sample: 0,
      propensity: item.propensity,
    })),
    policy: carousel.policy,
    modelVersion: carousel.modelVersion,
    experiment: null,
    variant: null,
    serverTimeUs: 0,
    ...(carousel.candidates !== null ? { candidates: carousel.candidates } : {}),
  };
  recorder.write({ kind: 'response', t, userId, response });
  carousel.items.forEach((item, s) => {
    const base = { type: 'feedback' as const, requestId: carousel.requestId, itemId: item.itemId };
    if (carousel.clicks[s] > 0)
      recorder.write({ kind: 'feedback', t, userId, feedback: { ...base, kind: 'click' } });
    if (carousel.conversions[s] > 0) {
      recorder.write({ kind: 'feedback', t, userId, feedback: { ...base, kind: 'conversion', value: 1 } });
    }
    if (carousel.watchSeconds[s] > 0) {
      recorder.write({
        kind: 'feedback',
        t,
        userId,
        feedback: { ...base, kind: 'watch', watchTimeMs: Math.round(carousel.watchSeconds[s] * 1000) },
      });
    }
  });
}

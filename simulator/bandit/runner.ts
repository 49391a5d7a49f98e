/**
 * Runs slate policies against a simulated world in process, with no network: the fast, deterministic way to
 * compare policies and check their regret. Each policy plays its own copy of the world built from the same
 * seed (so all face the same users, sessions, catalog and events) with its own random streams for its
 * choices and for the users' responses.
 */
import type { Tempering } from '../../src/bandit/posterior.ts';
import { createRng } from '../../src/stats/rng.ts';
import { type KArmedCurve, SeriesRecorder, type SimulationReport } from '../report/series.ts';
import type { SimItem, SimUser } from '../world/population.ts';
import type { Scenario } from '../world/scenario.ts';
import { createWorld, type World } from '../world/world.ts';
import { createPolicy, type SimPolicyName, type SlatePolicy } from './policies.ts';

/** The engine's settings a policy plays with (absent: the run's, then the defaults). */
export interface PolicySettings {
  /** Strength m of the model-informed prior (the engine's `model.priorStrength`, default 20). */
  priorStrength?: number;
  /** ε of `epsilon-greedy` (the engine's `model.epsilon`, default 0.1). */
  epsilon?: number;
  /** c of `ucb1` (the engine's `model.ucbC`, default 1). */
  ucbC?: number;
  /** Tempering of `thompson` (the engine's `model.thompsonTemperature`, `model.temperingImpressions`; default none). */
  tempering?: Tempering;
  /**
   * Examination probability per slot when the position-bias model is on (the engine's `stream.positionBias`,
   * through `examinationTable`); absent: raw impression counts.
   */
  examination?: readonly number[];
}

/** A policy with settings of its own, under the label its series carries (two Thompson samplings side by side). */
export interface Contender {
  label: string;
  policy: SimPolicyName;
  settings?: PolicySettings;
}

export interface InProcessOptions extends PolicySettings {
  scenario: Scenario;
  /** The policies to play: a name plays with the run's settings under its own name. */
  policies: readonly (SimPolicyName | Contender)[];
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Simulated seconds to run (default: the scenario's duration, or its pulls for K-armed). */
  durationSeconds?: number;
  /** Width of a report bucket, simulated seconds (default: duration / 24). */
  bucketSeconds?: number;
  /** Called after each slate is dealt, before the user responds: diagnostics that look inside a run. */
  onSlate?: (dealt: DealtSlate) => void;
}

/** One slate of an in-process run, as `onSlate` sees it. */
export interface DealtSlate {
  label: string;
  at: number;
  world: World;
  policy: SlatePolicy;
  user: SimUser;
  candidates: readonly SimItem[];
  slate: readonly SimItem[];
}

/** A contender of a policy name: the name as label, the run's settings. */
export function asContender(entry: SimPolicyName | Contender): Contender {
  return typeof entry === 'string' ? { label: entry, policy: entry } : entry;
}

const POLICY_STREAM = 7_000_003;
const RESPONSE_STREAM = 9_000_011;

/** Plays every policy through the scenario and returns the bucketed series. */
export function runInProcess(options: InProcessOptions): SimulationReport {
  const seed = options.seed ?? options.scenario.seed;
  const probe = createWorld(options.scenario, { seed });
  const duration = options.durationSeconds ?? probe.durationSeconds;
  const bucketSeconds = options.bucketSeconds ?? duration / 24;
  const recorder = new SeriesRecorder(bucketSeconds);
  const kArmed = options.scenario.kind === 'k-armed';
  for (const [p, entry] of options.policies.entries()) {
    const contender = asContender(entry);
    const settings: PolicySettings = { ...options, ...contender.settings };
    // No model in the K-armed scenario: p̂ = 1/2 with m = 2 is the uniform Beta(1, 1) prior.
    const priorStrength = kArmed ? 2 : (settings.priorStrength ?? 20);
    const world = createWorld(options.scenario, { seed });
    const policy = createPolicy(contender.policy, {
      rng: createRng(seed + POLICY_STREAM + p),
      segments: world.segments.length,
      priorStrength,
      ...policyParams(settings),
    });
    const responses = createRng(seed + RESPONSE_STREAM);
    for (;;) {
      const session = world.nextSession();
      if (session.at >= duration) break;
      world.advance(session.at);
      const user = session.user;
      const segment = user.segment;
      const score = (item: Parameters<typeof world.modelScore>[1]) => world.modelScore(segment, item);
      for (let r = 0; r < session.requests; r++) {
        const candidates = world.liveItems();
        const slate = policy.choose({ segment, candidates, slots: world.slots, score });
        options.onSlate?.({ label: contender.label, at: session.at, world, policy, user, candidates, slate });
        const outcomes = world.model.respond(responses, user, slate);
        for (let s = 0; s < slate.length; s++) policy.observe(segment, slate[s], s, outcomes[s].clicked);
        recorder.record(
          contender.label,
          session.at,
          outcomes,
          world.model.expectedClicks(user, slate),
          world.model.oracleClicks(user, candidates, world.slots),
        );
      }
    }
  }
  return {
    scenario: options.scenario.name,
    seed,
    mode: 'in-process',
    bucketSeconds,
    series: recorder.series(),
  };
}

/** Kullback–Leibler divergence between Bernoulli(p) and Bernoulli(q). */
export function bernoulliKl(p: number, q: number): number {
  const term = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  return term(p, q) + term(1 - p, 1 - q);
}

/** The Lai–Robbins constant Σ_{i: Δ_i > 0} Δ_i / KL(μ_i, μ*): regret ≥ (constant − o(1)) · ln T. */
export function laiRobbinsConstant(means: readonly number[]): number {
  const best = Math.max(...means);
  let sum = 0;
  for (const mean of means) if (mean < best) sum += (best - mean) / bernoulliKl(mean, best);
  return sum;
}

type PolicyParams = Omit<PolicySettings, 'priorStrength'>;

/** The ε, c, tempering and examination table a run passes to its policies (absent: the policies' defaults). */
function policyParams(options: PolicySettings): PolicyParams {
  return {
    ...(options.epsilon !== undefined ? { epsilon: options.epsilon } : {}),
    ...(options.ucbC !== undefined ? { ucbC: options.ucbC } : {}),
    ...(options.tempering !== undefined ? { tempering: options.tempering } : {}),
    ...(options.examination !== undefined ? { examination: options.examination } : {}),
  };
}

export interface KArmedOptions {
  arms: readonly number[];
  /** The policies to play: a name plays with the run's settings under its own name. */
  policies: readonly (SimPolicyName | Contender)[];
  pulls: number;
  seed: number;
  /** ε of `epsilon-greedy` (default 0.1). */
  epsilon?: number;
  /** c of `ucb1` (default 1). */
  ucbC?: number;
  /** Tempering of `thompson` (default none). */
  tempering?: Tempering;
  /** Pull counts at which regret is read (default: a geometric grid up to `pulls`). */
  checkpoints?: number[];
}

export function geometricCheckpoints(pulls: number, perDecade = 4): number[] {
  const out: number[] = [];
  for (let e = 2; ; e += 1 / perDecade) {
    const t = Math.round(10 ** e);
    if (t >= pulls) break;
    if (out.at(-1) !== t) out.push(t);
  }
  out.push(pulls);
  return out;
}

/** Plays a pure K-armed Bernoulli bandit and reads each policy's cumulative pseudo-regret at checkpoints. */
export function runKArmed(options: KArmedOptions): KArmedCurve {
  const checkpoints = options.checkpoints ?? geometricCheckpoints(options.pulls);
  const constant = laiRobbinsConstant(options.arms);
  const best = Math.max(...options.arms);
  const regret: Record<string, number[]> = {};
  for (const [p, entry] of options.policies.entries()) {
    const contender = asContender(entry);
    const world = createWorld({
      name: 'k-armed',
      description: '',
      kind: 'k-armed',
      seed: options.seed,
      arms: [...options.arms],
      pulls: options.pulls,
      requestsPerSecond: 1,
    });
    const policy = createPolicy(contender.policy, {
      rng: createRng(options.seed + POLICY_STREAM + p),
      segments: 1,
      priorStrength: 2,
      ...policyParams({ ...options, ...contender.settings }),
    });
    const responses = createRng(options.seed + RESPONSE_STREAM);
    const arms = world.liveItems();
    const score = () => 0.5;
    const readings: number[] = [];
    let sum = 0;
    let next = 0;
    for (let t = 1; t <= options.pulls; t++) {
      const [arm] = policy.choose({ segment: 0, candidates: arms, slots: 1, score });
      const mean = arm.fixedCtr ?? 0;
      policy.observe(0, arm, 0, responses.next() < mean);
      sum += best - mean;
      if (t === checkpoints[next]) {
        readings.push(sum);
        next++;
      }
    }
    regret[contender.label] = readings;
  }
  return { pulls: checkpoints, bound: checkpoints.map((t) => constant * Math.log(t)), regret };
}

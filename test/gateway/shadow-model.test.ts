/**
 * model.shadowVersion through the real gateway (redis-server, the embedded broker and registry, a WebSocket):
 * a second registry version scores every logged candidate set after the reply, its p̂ are logged with the set and
 * never shown, and a shadow test evaluates "Thompson sampling with the candidate model" from them.
 */
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../src/config/index.ts';
import type { CandidateSet } from '../../src/domain/candidate-set.ts';
import type { CarouselMessage } from '../../src/domain/protocol-messages.ts';
import { type ServingHandle, startServing } from '../../src/gateway/serving.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { buildLogisticModel } from '../../src/scoring/onnx-model-builder.ts';
import { loadShadowModel } from '../../src/scoring/shadow-model.ts';
import { evaluateShadow } from '../../src/shadow/evaluate-shadow.ts';
import { parseCandidateSpec } from '../../src/shadow/policy-spec.ts';
import { carouselsFromRecording, type RecordingEvent } from '../../src/shadow/recording-source.ts';
import { entry, tempRegistry, writeManifest } from '../decision/support.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';
import { connectClient, eventually, tailTopic, writeItems } from './support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const logit = (p: number) => Math.log(p / (1 - p));

async function writeLogistic(dir: string, version: string, weights: Float32Array, bias: number) {
  const bytes = buildLogisticModel({ weights, bias, inputName: spec.input, outputName: spec.output });
  await writeFile(join(dir, `${version}.onnx`), bytes);
  return entry(spec, version);
}

let redis: TestRedis;
let broker: TestBroker;
let registry: TestRegistry;
let serving: ServingHandle;
let models: string;
let clickstream: string;

const serve = (config: Config) =>
  startServing({
    config,
    logger: silentLogger(),
    redis: redis.client,
    brokers: broker.brokers,
    registryUrl: registry.url,
  });

beforeAll(async () => {
  [redis, broker, registry] = await Promise.all([startTestRedis(), startTestBroker(), startTestRegistry()]);
  const prefix = redis.prefix();
  // Items of the feature spec's categories: their feature rows differ.
  const categories = ['movies', 'series', 'documentary', 'kids', 'sports', 'news'];
  await writeItems(
    redis.client,
    prefix,
    categories.map((category, i) => ({ itemId: `item-${i}`, title: `Title ${i}`, category })),
  );
  // The shadow model's logit is twice the serving model's on every row: its p̂ show which rows it scored.
  models = await tempRegistry();
  const weights = Float32Array.from({ length: spec.width }, (_, c) => 0.5 * Math.sin(c + 1));
  const served = await writeLogistic(models, 'served-1', weights, -2);
  const shadow = await writeLogistic(
    models,
    'shadow-1',
    weights.map((w) => 2 * w),
    -4,
  );
  await writeManifest(models, {
    active: 'served-1',
    models: [
      served,
      shadow,
      { ...entry(spec, 'other-spec', 'served-1.onnx'), featureSpecHash: `sha256:${'0'.repeat(64)}` },
    ],
  });
  const config = parseConfig({
    kafka: { partitions: 2 },
    redis: { keyPrefix: prefix },
    model: { registryDir: models, watchRegistry: false, shadowVersion: 'shadow-1' },
    gateway: { port: 0 },
    log: { level: 'silent', candidateSampleRate: 1 },
  });
  clickstream = config.kafka.topics.clickstream;
  serving = await serve(config);
});

afterAll(async () => {
  await serving?.close();
  await Promise.all([redis?.close(), broker?.close(), registry?.close()]);
  if (models !== undefined) rmSync(models, { recursive: true, force: true });
});

/** Every shadow p̂ is the shadow model's score of the same candidate's feature row as the serving p̂. */
function expectShadowScores(set: CandidateSet): void {
  expect(set.shadowModelVersion).toBe('shadow-1');
  expect(set.shadowScores).not.toBeNull();
  expect(set.shadowScores!.length).toBe(set.itemIds.length);
  set.scores.forEach((p, i) => {
    expect(logit(set.shadowScores![i])).toBeCloseTo(2 * logit(p), 3);
  });
  // The candidates' rows differ, so the check above tells their order apart.
  expect(new Set(set.scores.map((p) => p.toFixed(5))).size).toBeGreaterThan(1);
}

async function carousels(userId: string, hello: Record<string, unknown>, count: number) {
  const client = await connectClient(`ws://127.0.0.1:${serving.gateway.port}/ws`);
  client.send({ type: 'hello', userId, ...hello });
  await client.next((m) => m.type === 'welcome');
  const replies: CarouselMessage[] = [];
  for (let r = 0; r < count; r++) {
    client.send({ type: 'carousel', requestId: `${userId}-${r}`, slots: 4 });
    replies.push(
      (await client.next(
        (m) => m.type === 'carousel' && m.requestId === `${userId}-${r}`,
      )) as unknown as CarouselMessage,
    );
  }
  client.close();
  return replies;
}

describe('model.shadowVersion: a candidate model scored on the logged candidate sets, never shown', () => {
  it("logs the shadow model's p̂ of every candidate with the set, after a reply that shows the serving model only", async () => {
    const replies = await carousels('u-plain', {}, 5);
    for (const reply of replies) {
      expect(reply.modelVersion).toBe('served-1');
      expect(reply.candidates).toBeUndefined();
    }
    await serving.eventLog.flush();
    const { consumed, close } = await tailTopic(broker.brokers, registry.url, clickstream);
    try {
      const logged = await eventually(() => {
        const found = consumed.flatMap((e) =>
          e.schemaName === 'Carousel' && e.value.requestId.startsWith('u-plain-') ? [e.value] : [],
        );
        return found.length === replies.length ? found : undefined;
      }, 20_000);
      for (const record of logged) {
        expect(record.modelVersion).toBe('served-1');
        expect(record.candidates).not.toBeNull();
        expectShadowScores(record.candidates!);
        // The shown items carry the serving model's p̂: the shadow model's never reach a slate.
        const set = record.candidates!;
        for (const item of record.items) {
          expect(item.score).toBeCloseTo(set.scores[set.itemIds.indexOf(item.itemId)], 6);
        }
      }
    } finally {
      await close();
    }
  }, 60_000);

  it("evaluates Thompson sampling with the candidate model from a recording of the gateway's replies", async () => {
    const replies = await carousels('u-recorder', { propensities: true, candidates: true }, 40);
    for (const reply of replies) expectShadowScores(reply.candidates!);
    const events: RecordingEvent[] = replies.map((response, t) => ({
      kind: 'response',
      t,
      userId: 'u-recorder',
      response,
    }));
    const logged = carouselsFromRecording(events);
    const report = evaluateShadow(
      logged,
      ['policy=thompson,model=shadow-1', 'policy=thompson,model=served-1'].map(parseCandidateSpec),
      { replicates: 50 },
    );
    expect(report.carousels.evaluated).toBe(replies.length);
    const [candidate, same] = report.candidates;
    expect(candidate.label).toBe('policy=thompson,model=shadow-1');
    // Its weights come from the shadow p̂: not those of the logging policy, whose own replay weighs about 1.
    expect(candidate.diagnostics.largestWeight).not.toBeCloseTo(same.diagnostics.largestWeight, 6);
    expect(Number.isFinite(candidate.metrics.ctr.estimates.dr.estimate)).toBe(true);
    // A model whose scores were not logged is refused with what to set.
    expect(() => evaluateShadow(logged, [parseCandidateSpec('policy=thompson,model=other-1')])).toThrowError(
      /model.shadowVersion=other-1/,
    );
  }, 60_000);

  it('refuses a shadow version missing from the registry, or following another feature spec, with what to set', async () => {
    const missing = parseConfig({
      redis: { keyPrefix: redis.prefix() },
      model: { registryDir: models, watchRegistry: false, shadowVersion: 'missing-9' },
      gateway: { port: 0 },
      log: { level: 'silent' },
    });
    await expect(serve(missing)).rejects.toMatchObject({
      code: 'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
      message: expect.stringMatching(
        /has no such version \(it has served-1, shadow-1, other-spec\).*MODEL_SHADOW_VERSION/,
      ),
    });
    await expect(loadShadowModel({ registryDir: models, version: 'other-spec', spec })).rejects.toMatchObject(
      {
        code: 'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
      },
    );
    expect(() => parseConfig({ model: { shadowVersion: 'no spaces' } })).toThrowError(/model\.shadowVersion/);
  });
});

/**
 * Generates croupier's default click model from `models/feature-spec.json`: a logistic regression whose
 * weights are set by hand to sensible signs and sizes (smoothed item CTR dominates, user CTR and category
 * affinity lift, old items fade), with the bias chosen so a new item shown to an unknown user scores the base
 * rate. Writes `models/default-1.onnx` and its entry in `models/manifest.json` (made active).
 *
 *   npm run model:build [-- --dir models --version default-1 --base-rate 0.05]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import type { ItemFeatures, ItemInfo, StateView, UserFeatures } from '../src/domain/decision.ts';
import { loadFeatureSpec } from '../src/scoring/feature-spec.ts';
import { FeatureAssembler } from '../src/scoring/features.ts';
import {
  MANIFEST_FILE,
  type Manifest,
  type ModelEntry,
  readManifest,
} from '../src/scoring/model-registry.ts';
import { buildLogisticModel } from '../src/scoring/onnx-model-builder.ts';
import { createRng } from '../src/stats/rng.ts';

/** Hand-set weights by column name; columns not listed weigh 0. */
const WEIGHTS: Record<string, number> = {
  'user.log1p_impressions': -0.05,
  'user.log1p_clicks': 0.05,
  'user.ctr': 3,
  'user.segment=casual': 0.05,
  'user.segment=premium': 0.2,
  'user.subscribed': 0.15,
  'item.decayed_ctr': 2,
  'item.ctr_logit': 0.7,
  'item.log1p_impressions': 0.02,
  'item.log1p_age_days': -0.08,
  'item.category=movies': 0.1,
  'item.category=series': 0.1,
  'item.category=documentary': -0.05,
  'item.category=sports': 0.05,
  'item.category=news': -0.1,
  'context.device=desktop': 0.05,
  'context.device=tv': 0.15,
  'affinity.recent_category_share': 0.8,
  'affinity.recent_item': -0.5,
};

const DAY_MS = 86_400_000;

/** A tiny in-memory world for the reference row and the probe metrics. */
function syntheticView(items: ItemInfo[], features: Map<string, ItemFeatures>): StateView {
  return {
    items: () => items,
    arm: () => ({ impressions: 0, clicks: 0 }),
    itemFeatures: (itemId) => features.get(itemId),
    user: () => undefined,
  };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: 'models' },
      version: { type: 'string', default: 'default-1' },
      'base-rate': { type: 'string', default: '0.05' },
    },
  });
  const dir = values.dir!;
  const version = values.version!;
  const baseRate = Number(values['base-rate']);
  const specFile = 'feature-spec.json';
  const spec = await loadFeatureSpec(join(dir, specFile));
  const unknown = Object.keys(WEIGHTS).filter((name) => !spec.columns.includes(name));
  if (unknown.length > 0) throw new Error(`weights for columns not in the spec: ${unknown.join(', ')}`);
  const weights = new Float32Array(spec.width);
  spec.columns.forEach((name, i) => {
    weights[i] = WEIGHTS[name] ?? 0;
  });

  // Reference: a week-old item never shown, an unknown user on mobile.
  const now = Date.UTC(2026, 0, 1);
  const assembler = new FeatureAssembler(spec);
  const reference: ItemInfo = {
    itemId: 'ref',
    title: 'ref',
    category: 'movies',
    tags: [],
    available: true,
    createdAt: now - 7 * DAY_MS,
  };
  const context = { device: 'mobile', country: null, page: null };
  const refRow = assembler.assemble(
    syntheticView([reference], new Map()),
    [reference],
    1,
    undefined,
    context,
    now,
  );
  let dot = 0;
  for (let i = 0; i < spec.width; i++) dot += weights[i] * refRow[i];
  const bias = Math.log(baseRate / (1 - baseRate)) - dot;

  const bytes = buildLogisticModel({
    weights,
    bias,
    inputName: spec.input,
    outputName: spec.output,
    docString: `croupier default click model over ${spec.name} v${spec.version}`,
    metadata: { featureSpecHash: spec.hash, version },
  });
  const file = `${version}.onnx`;
  await writeFile(join(dir, file), bytes);

  // Probe metrics: a seeded synthetic population, scored by ONNX Runtime and by the formula.
  const rng = createRng(7);
  const rows = 2000;
  const categories = ['movies', 'series', 'documentary', 'kids', 'sports', 'news', 'music', 'poetry'];
  const items: ItemInfo[] = [];
  const features = new Map<string, ItemFeatures>();
  for (let i = 0; i < rows; i++) {
    const impressions = Math.floor(rng.next() ** 3 * 5000);
    const clicks = Math.floor(impressions * rng.next() * 0.15);
    items.push({
      itemId: `i${i}`,
      title: `i${i}`,
      category: categories[Math.floor(rng.next() * categories.length)],
      tags: [],
      available: true,
      createdAt: now - rng.next() * 365 * DAY_MS,
    });
    const ctr = impressions > 0 ? clicks / impressions : 0;
    features.set(`i${i}`, {
      impressions,
      clicks,
      conversions: 0,
      conversionValue: 0,
      watchMs: 0,
      lastSeen: now,
      decayedCtr: ctr,
    });
  }
  const user: UserFeatures = {
    userId: 'u',
    segment: 'casual',
    country: null,
    subscribed: true,
    impressions: 200,
    clicks: 14,
    conversions: 0,
    watchMs: 0,
    lastActive: now,
    recent: ['i1', 'i2', 'i3'],
  };
  const matrix = assembler
    .assemble(syntheticView(items, features), items, rows, user, context, now)
    .slice(0, rows * spec.width);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const out = await session.run({ [spec.input]: new ort.Tensor('float32', matrix, [rows, spec.width]) });
  const scores = Array.from((out[spec.output] as ort.Tensor).data as Float32Array);
  await session.release();
  let maxDiff = 0;
  for (let r = 0; r < rows; r++) {
    let z = bias;
    for (let c = 0; c < spec.width; c++) z += weights[c] * matrix[r * spec.width + c];
    maxDiff = Math.max(maxDiff, Math.abs(sigmoid(z) - scores[r]));
  }
  const sorted = [...scores].sort((a, b) => a - b);
  const round = (x: number): number => Number(x.toPrecision(4));
  const metrics = {
    baseRate,
    probeRows: rows,
    probeMeanScore: round(scores.reduce((s, x) => s + x, 0) / rows),
    probeP05Score: round(sorted[Math.floor(rows * 0.05)]),
    probeP95Score: round(sorted[Math.floor(rows * 0.95)]),
    maxAbsDiffVsFormula: round(maxDiff),
  };

  const manifestPath = join(dir, MANIFEST_FILE);
  // A missing or broken manifest is replaced by one that lists this model alone.
  const manifest: Manifest | null = await readManifest(dir).catch(() => null);
  const previous = manifest?.models.find((m) => m.version === version);
  const entry: ModelEntry = {
    version,
    file,
    created: previous?.featureSpecHash === spec.hash ? previous.created : new Date().toISOString(),
    featureSpec: specFile,
    featureSpecHash: spec.hash,
    metrics,
    description:
      'Hand-set logistic regression (MatMul + Add + Sigmoid, opset 13); generated by npm run model:build.',
  };
  const models = (manifest?.models ?? []).filter((m) => m.version !== version);
  const next: Manifest = { active: version, models: [...models, entry] };
  await writeFile(manifestPath, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`wrote ${join(dir, file)} (${bytes.length} bytes, ${spec.width} features) and ${manifestPath}`);
  console.table(metrics);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

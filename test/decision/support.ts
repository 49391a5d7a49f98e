/** An in-memory StateView over plain maps, standing in for the gateway's change-feed cache in unit tests. */

import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArmStats, ItemFeatures, ItemInfo, StateView, UserFeatures } from '../../src/domain/decision.ts';
import type { FeatureSpec } from '../../src/scoring/feature-spec.ts';
import type { Manifest, ModelEntry } from '../../src/scoring/model-registry.ts';
import { buildLogisticModel } from '../../src/scoring/onnx-model-builder.ts';

export interface MemoryState {
  items: ItemInfo[];
  features?: Map<string, ItemFeatures>;
  /** Key `<itemId>|<segment>`. */
  arms?: Map<string, ArmStats>;
  users?: Map<string, UserFeatures>;
}

const ZERO: ArmStats = Object.freeze({ impressions: 0, clicks: 0 }) as ArmStats;

export function memoryView(state: MemoryState): StateView {
  return {
    items: () => state.items,
    arm: (itemId, segment) => state.arms?.get(`${itemId}|${segment}`) ?? ZERO,
    itemFeatures: (itemId) => state.features?.get(itemId),
    user: (userId) => state.users?.get(userId),
  };
}

export const DAY_MS = 86_400_000;
export const NOW = Date.UTC(2026, 10, 1);

export function item(itemId: string, category = 'movies', ageDays = 1): ItemInfo {
  return {
    itemId,
    title: `Title ${itemId}`,
    category,
    tags: [],
    available: true,
    createdAt: NOW - ageDays * DAY_MS,
  };
}

export function features(impressions: number, clicks: number, decayedCtr = 0): ItemFeatures {
  return { impressions, clicks, conversions: 0, conversionValue: 0, watchMs: 0, lastSeen: NOW, decayedCtr };
}

export function user(userId: string, overrides: Partial<UserFeatures> = {}): UserFeatures {
  return {
    userId,
    segment: null,
    country: null,
    subscribed: null,
    impressions: 0,
    clicks: 0,
    conversions: 0,
    watchMs: 0,
    lastActive: NOW,
    recent: [],
    ...overrides,
  };
}

/** A pool of n items over a few categories, with varied counts. */
export function pool(n: number): MemoryState {
  const categories = ['movies', 'series', 'news', 'kids', 'poetry'];
  const items: ItemInfo[] = [];
  const feats = new Map<string, ItemFeatures>();
  for (let i = 0; i < n; i++) {
    const id = `item-${i}`;
    items.push(item(id, categories[i % categories.length], 1 + (i % 60)));
    const imp = (i * 37) % 500;
    feats.set(id, features(imp, Math.floor(imp * (((i * 13) % 10) / 100)), ((i * 7) % 20) / 100));
  }
  return { items, features: feats };
}

/** A registry directory holding the repository's feature spec and no models yet. */
export async function tempRegistry(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'croupier-models-'));
  await copyFile('models/feature-spec.json', join(dir, 'feature-spec.json'));
  return dir;
}

/** Writes a logistic model `version` (weights w, bias b) into `dir` and returns its manifest entry. */
export async function writeModel(
  dir: string,
  spec: FeatureSpec,
  version: string,
  weight: number,
  bias: number,
): Promise<ModelEntry> {
  const weights = new Float32Array(spec.width).fill(weight);
  const bytes = buildLogisticModel({ weights, bias, inputName: spec.input, outputName: spec.output });
  await writeFile(join(dir, `${version}.onnx`), bytes);
  return entry(spec, version);
}

export function entry(spec: FeatureSpec, version: string, file = `${version}.onnx`): ModelEntry {
  return {
    version,
    file,
    created: new Date(NOW).toISOString(),
    featureSpec: 'feature-spec.json',
    featureSpecHash: spec.hash,
    metrics: {},
  };
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

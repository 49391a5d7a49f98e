/**
 * The model registry: a directory holding ONNX files, the feature specs they follow and `manifest.json`, which
 * lists every model version (file, creation time, feature spec and its hash, offline metrics) and names the
 * active one. Serving reads the active entry; retraining adds an entry and flips `active`.
 */
import { watch } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { jsonFileProblem, readJsonFile } from '../config/read-json-file.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { seedModelRegistry } from './model-registry-seed.ts';

export const MANIFEST_FILE = 'manifest.json';

const fileName = z
  .string()
  .min(1)
  .regex(/^[^/\\]+$/, 'a file name inside the registry directory');

export const modelEntrySchema = z
  .object({
    version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -'),
    file: fileName,
    created: z.string().datetime({ offset: true }),
    featureSpec: fileName,
    featureSpecHash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>'),
    metrics: z.record(z.number()).default({}),
    description: z.string().optional(),
  })
  .strict();

/**
 * The concurrent control of a promotion's watch: a share of users (by a salted hash of the user id) still served
 * by the model the promotion replaced, so the watch compares the two models over the same time.
 */
export const holdbackSchema = z
  .object({
    version: z.string().min(1),
    /** Share of users served by `version`, percent. */
    percent: z.number().gt(0).max(50),
    /** Salt of the users' split (a new salt per promotion draws a new holdback). */
    salt: z.string().min(1),
  })
  .strict();

export const manifestSchema = z
  .object({
    active: z.string().min(1),
    models: z.array(modelEntrySchema).min(1),
    holdback: holdbackSchema.optional(),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const versions = new Set<string>();
    manifest.models.forEach((model, index) => {
      if (versions.has(model.version)) {
        ctx.addIssue({ code: 'custom', path: ['models', index, 'version'], message: 'duplicate version' });
      }
      versions.add(model.version);
    });
    if (!versions.has(manifest.active)) {
      ctx.addIssue({
        code: 'custom',
        path: ['active'],
        message: `no model has version "${manifest.active}"`,
      });
    }
    const holdback = manifest.holdback?.version;
    if (holdback !== undefined && (!versions.has(holdback) || holdback === manifest.active)) {
      ctx.addIssue({
        code: 'custom',
        path: ['holdback', 'version'],
        message: `the holdback must name a version other than the active one, got "${holdback}"`,
      });
    }
  });

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type Holdback = z.infer<typeof holdbackSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** The active model of a registry, with absolute paths. */
export interface ActiveModel {
  readonly entry: ModelEntry;
  readonly modelPath: string;
  readonly featureSpecPath: string;
}

function registryError(dir: string, message: string, cause?: unknown): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
    `model registry ${dir}: ${message}`,
    { registryDir: dir },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads and validates `manifest.json` of `dir`. A registry directory that does not exist yet, or is empty, is
 * first created as a copy of the shipped `models/` registry (`seedModelRegistry`).
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  const options = {
    code: 'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
    what: 'the model registry manifest',
  } as const;
  let json: unknown;
  try {
    json = await readJsonFile(path, options);
  } catch (error) {
    if (jsonFileProblem(error) !== 'missing') throw error;
    await seedModelRegistry(dir); // or another process just did
    json = await readJsonFile(path, options);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw registryError(dir, `${MANIFEST_FILE} ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The manifest's active entry with the paths of its model and feature spec. */
export function activeModel(dir: string, manifest: Manifest): ActiveModel {
  const entry = manifest.models.find((model) => model.version === manifest.active)!;
  const base = isAbsolute(dir) ? dir : join(process.cwd(), dir);
  return { entry, modelPath: join(base, entry.file), featureSpecPath: join(base, entry.featureSpec) };
}

/**
 * Calls `onChange` (debounced) when `manifest.json` in `dir` is written or replaced. Returns the function that
 * stops watching.
 */
export function watchManifest(
  dir: string,
  onChange: () => void,
  logger: Logger,
  debounceMs = 100,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { persistent: false }, (_event, file) => {
    if (file !== null && file !== MANIFEST_FILE) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('error', (error) => {
    logger.warn(
      { err: error, registryDir: dir },
      'model registry watch failed; reload with the admin endpoint',
    );
  });
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}

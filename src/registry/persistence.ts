/**
 * The registry's state on disk: one JSON file, `registry.json`, in the data directory. Every change is written
 * to a temporary file, flushed and renamed over the old one, so a crash leaves either the old or the new
 * state, never half of one. Writes run one at a time, in the order the changes happened.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { jsonFileProblem, readJsonFile } from '../config/read-json-file.ts';
import { CroupierError } from '../errors/index.ts';
import { COMPATIBILITY_LEVELS } from './compatibility.ts';

const levelSchema = z.enum(COMPATIBILITY_LEVELS);

/**
 * A JSON object keyed by any subject name, `__proto__` included, read into an object without a prototype.
 * zod's `record` drops a `__proto__` key, so a subject of that name (which Confluent's registry takes too)
 * was lost at the next start.
 */
function subjectRecord<T extends z.ZodTypeAny>(value: T) {
  return z
    .custom<Record<string, unknown>>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
      'expected an object keyed by subject',
    )
    .transform((saved, ctx) => {
      const out: Record<string, z.output<T>> = Object.create(null);
      for (const [subject, entry] of Object.entries(saved)) {
        const parsed = value.safeParse(entry);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [subject, ...issue.path] });
          return z.NEVER;
        }
        out[subject] = parsed.data;
      }
      return out;
    });
}

export const registryStateSchema = z
  .object({
    format: z.literal(1),
    nextId: z.number().int().positive(),
    schemas: z.array(
      z.object({ id: z.number().int().positive(), schemaType: z.literal('AVRO'), schema: z.string() }),
    ),
    subjects: subjectRecord(
      z.array(
        z.object({
          version: z.number().int().positive(),
          id: z.number().int().positive(),
          deleted: z.boolean(),
        }),
      ),
    ),
    compatibility: levelSchema,
    subjectCompatibility: subjectRecord(levelSchema),
  })
  .strict();

export type RegistryState = z.infer<typeof registryStateSchema>;

export const STATE_FILE = 'registry.json';

/** Reads the saved state, or `null` when the directory holds none yet. */
export async function loadState(dataDir: string): Promise<RegistryState | null> {
  const file = join(dataDir, STATE_FILE);
  let json: unknown;
  try {
    json = await readJsonFile(file, {
      code: 'CROUPIER_ERR_REGISTRY_DATA',
      what: 'the schema registry state',
      invalidHint: 'restore it from a backup or move it away to start empty',
    });
  } catch (error) {
    if (jsonFileProblem(error) === 'missing') return null;
    throw error;
  }
  const parsed = registryStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CroupierError(
      'CROUPIER_ERR_REGISTRY_DATA',
      `the schema registry state ${file} is not in the expected shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      { file },
    );
  }
  return parsed.data;
}

/** Saves snapshots atomically, one write at a time, in call order. */
export class StateWriter {
  private readonly file: string;
  private readonly dir: string;
  private chain: Promise<void> = Promise.resolve();
  private counter = 0;

  constructor(dataDir: string) {
    this.dir = dataDir;
    this.file = join(dataDir, STATE_FILE);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Queues a write of `snapshot`; resolves once it is on disk. */
  save(snapshot: RegistryState): Promise<void> {
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    const temp = `${this.file}.${process.pid}.${++this.counter}.tmp`;
    const write = this.chain.then(() => writeAtomically(temp, this.file, text));
    this.chain = write.catch(() => undefined);
    return write;
  }

  /** Resolves when every queued write has finished. */
  flushed(): Promise<void> {
    return this.chain;
  }
}

async function writeAtomically(temp: string, file: string, text: string): Promise<void> {
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

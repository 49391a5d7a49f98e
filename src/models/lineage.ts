/**
 * A trained model version's lineage, stored beside its ONNX file as `<version>.lineage.json`: where its data
 * came from (the archive files read with their content hashes and offset ranges, the window, row counts),
 * how it was trained (kind, hyper-parameters, seed, code version, feature spec hash), the parity check and
 * the holdout metrics against the model that was active, and the evidence the promotion gate reads.
 */
import { z } from 'zod';

export interface LineageFile {
  path: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  bytes: number;
  sha256: string;
}

/** What the gate needs, copied out of the metrics so it reads without knowing them. */
export interface GateEvidence {
  parityPassed: boolean;
  candidateLogLoss: number;
  /** The model the candidate was compared with on the same holdout rows (null: none was comparable). */
  comparedWith: string | null;
  activeLogLoss: number | null;
  /** Candidate minus active AUC with its paired interval, when both classes were present. */
  aucDifference: { difference: number; ci: [number, number]; confidence: number } | null;
}

export interface Lineage {
  version: string;
  kind: string;
  created: string;
  codeVersion: string;
  seed: number;
  hyperParameters: Record<string, unknown>;
  featureSpec: { file: string; hash: string; width: number };
  archive: {
    location: string;
    files: LineageFile[];
    offsetRanges: { partition: number; start: number; end: number }[];
  };
  window: { from: string; to: string; holdoutStart: string; attributionWindowSeconds: number };
  rows: Record<string, number>;
  carouselOffsets: { partition: number; start: number; end: number }[];
  position: { method: string; neutralValue: number };
  training: Record<string, unknown>;
  parity: { passed: boolean; rows: number; maxAbsDiff: number; tolerance: number };
  metrics: Record<string, unknown>;
  gateEvidence: GateEvidence;
}

export const lineageFileOf = (version: string) => `${version}.lineage.json`;
export const reliabilityFileOf = (version: string) => `${version}.reliability.svg`;

const finite = z.number().finite();
const instant = z.string().datetime({ offset: true });
const range = z.object({ partition: finite, start: finite, end: finite }).passthrough();

/**
 * What `croupier models show`, `promote` and the gate read of a lineage file, checked when it is read: a file cut
 * short, emptied, edited or holding a metric written as null (JSON's NaN) made them throw a SyntaxError or a
 * TypeError with a stack trace. Numbers must be finite, since the gate's checks (`active − candidate ≥ margin`,
 * an interval's end `≥ 0`) would read null as 0. The rest of the file is kept as it is.
 */
export const lineageSchema = z
  .object({
    version: z.string().min(1),
    kind: z.string(),
    created: instant,
    codeVersion: z.string(),
    seed: finite,
    hyperParameters: z.record(z.unknown()),
    archive: z
      .object({ location: z.string(), files: z.array(z.unknown()), offsetRanges: z.array(range) })
      .passthrough(),
    window: z
      .object({ from: instant, to: instant, holdoutStart: instant, attributionWindowSeconds: finite })
      .passthrough(),
    rows: z.record(finite),
    parity: z
      .object({ passed: z.boolean(), rows: finite, maxAbsDiff: finite, tolerance: finite })
      .passthrough(),
    gateEvidence: z
      .object({
        parityPassed: z.boolean(),
        candidateLogLoss: finite,
        comparedWith: z.string().nullable(),
        activeLogLoss: finite.nullable(),
        aucDifference: z
          .object({ difference: finite, ci: z.tuple([finite, finite]), confidence: finite })
          .nullable(),
      })
      .strict(),
  })
  .passthrough();

/**
 * `croupier train`: trains a click model on the clickstream archive, checks its ONNX parity, measures it and
 * the active model on the same holdout, and adds it to the registry as a new immutable version (a candidate;
 * `--promote` then applies the promotion gate).
 */
import { execFileSync } from 'node:child_process';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { openArchiveFileSystem } from '../../archive/fs/open.ts';
import { addModelVersion, promoteVersion } from '../../models/registry-writer.ts';
import { readManifest } from '../../scoring/model-registry.ts';
import { judgeCandidate, offPolicyEstimatorFor } from '../../train/promotion-gate.ts';
import { runTraining } from '../../train/run.ts';
import { MODEL_KINDS, type ModelKind } from '../../train/train-model.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface TrainFlags {
  from?: number;
  to?: number;
  archive?: string;
  kind?: ModelKind;
  modelVersion?: string;
  json?: boolean;
  promote?: boolean;
}

/** An instant: ISO 8601 (`2026-12-05T10:00:00Z`) or epoch milliseconds. */
export function parseInstant(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError(`expected an ISO 8601 time or epoch milliseconds, got '${value}'`);
  }
  return ms;
}

/** The code's version: the git commit of the working tree when there is one, else the package version. */
export function codeVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return `git:${commit}${dirty ? '+modified' : ''}`;
  } catch {
    return `croupier@${process.env.npm_package_version ?? '0.1.0'}`;
  }
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export function registerTrainCommand(program: Command): void {
  withConfigFlags(
    program
      .command('train')
      .description(
        'train a click model on the clickstream archive (carousels joined to their clicks), check its ONNX parity on the holdout, compare it with the active model there, and add it to the model registry as a new version',
      )
      .option(
        '--from <time>',
        'first carousel time (ISO 8601 or epoch ms; default: the first archived)',
        parseInstant,
      )
      .option(
        '--to <time>',
        'end of the window, exclusive (default: just after the last archived)',
        parseInstant,
      )
      .option('--archive <uri>', 'archive to read (default archive.uri): a directory, file://, webhdfs://')
      .addOption(new Option('--kind <kind>', 'model kind (default train.kind)').choices([...MODEL_KINDS]))
      .option('--model-version <name>', 'version name of the new model (default <kind>-<UTC time>)')
      .option('--promote', 'make it active when it passes the promotion gate (train.gate)')
      .option('--json', 'print JSON'),
  ).action(async (flags: TrainFlags, command: Command) => {
    const config = configFromCommand(command);
    const kind = flags.kind ?? config.train.kind;
    const now = new Date();
    const version = flags.modelVersion ?? `${kind}-${stamp(now)}`;
    const archive = openArchiveFileSystem({ ...config.archive, uri: flags.archive ?? config.archive.uri });
    const run = await runTraining({
      config,
      archive,
      fromMs: flags.from ?? null,
      toMs: flags.to ?? null,
      kind,
      version,
      codeVersion: codeVersion(),
      now,
    });
    const registryDir = config.model.registryDir;
    const report: Record<string, unknown> = {
      version,
      kind,
      parity: run.parity,
      rows: run.lineage.rows,
      window: run.lineage.window,
      files: run.lineage.archive.files.length,
      metrics: run.comparison,
      timings: run.timings,
    };
    if (!run.parity.passed) {
      report.refused = `parity failed: ONNX Runtime differs from the trainer by ${run.parity.maxAbsDiff} (tolerance ${run.parity.tolerance})`;
      if (flags.json) out(JSON.stringify(report, null, 2));
      else out(`REFUSED ${version}: ${report.refused}; nothing was added to ${registryDir}`);
      process.exitCode = 1;
      return;
    }
    await addModelVersion(registryDir, {
      entry: run.entry,
      onnx: run.onnx,
      lineage: run.lineage,
      reliabilitySvg: run.reliabilitySvg,
    });
    let gateLine = '';
    if (flags.promote) {
      const manifest = await readManifest(registryDir);
      const decision = await judgeCandidate({
        config,
        lineage: run.lineage,
        active: manifest.active,
        estimator: offPolicyEstimatorFor(config, archive),
      });
      report.gate = decision;
      if (decision.passed) {
        await promoteVersion(
          registryDir,
          version,
          'croupier train --promote: the gate passed',
          decision,
          config.train.watch.holdbackPercent,
        );
        gateLine = `promoted ${version}: the gate passed`;
      } else {
        gateLine = `kept ${version} as a candidate: ${decision.checks
          .filter((c) => !c.passed)
          .map((c) => `${c.name}: ${c.detail}`)
          .join('; ')}`;
      }
      report.promoted = decision.passed;
    }
    if (flags.json) {
      out(JSON.stringify(report, null, 2));
      return;
    }
    const r = run.lineage.rows;
    out(
      `trained ${version} (${kind}) on ${r.rows} shown items of ${r.carousels} carousels (${r.clicks} clicked) from ${run.lineage.archive.files.length} archive files, ${run.lineage.window.from} to ${run.lineage.window.to}`,
    );
    out(
      `rows: ${r.fit} fitted, ${r.validation} validation, ${r.holdout} holdout; ${r.withoutFeatures} without a feature row, ${r.otherSpec} of another spec and ${r.badFeatures ?? 0} with a feature that is not a finite number skipped`,
    );
    out(
      `parity: ONNX Runtime vs trainer on ${run.parity.rows} holdout rows, max |diff| ${run.parity.maxAbsDiff.toExponential(2)} (tolerance ${run.parity.tolerance})`,
    );
    out('');
    out(run.table);
    out('');
    out(
      `added ${version} to ${registryDir} (${run.entry.file}, ${version}.lineage.json, ${version}.reliability.svg)`,
    );
    if (gateLine) out(gateLine);
    else out(`croupier models promote ${version} makes it active if it passes the gate`);
  });
}

/**
 * `croupier models`: the model registry's versions (`ls`), one version with its lineage, metrics and history
 * (`show`), and the flips of the active model: `promote <v>` through the promotion gate, `rollback` to the
 * model active before the last promotion, `watch`: one look of the post-promotion watch, which rolls back on a
 * significant loss of live click-through. A gateway watching the registry reloads on each flip.
 */
import type { Command } from 'commander';
import { openArchiveFileSystem } from '../../archive/fs/open.ts';
import { CroupierError } from '../../errors/index.ts';
import type { GateDecision } from '../../models/gate.ts';
import { lineageFileOf, reliabilityFileOf } from '../../models/lineage.ts';
import {
  promoteVersion,
  promotionToWatch,
  readHistory,
  readLineage,
  rollbackActive,
} from '../../models/registry-writer.ts';
import type { WatchLook } from '../../models/watch.ts';
import { readManifest } from '../../scoring/model-registry.ts';
import { judgeCandidate, offPolicyEstimatorFor } from '../../train/promotion-gate.ts';
import { watchPromotion } from '../../train/promotion-watch.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const num = (x: number | undefined, digits = 5) => (x === undefined ? '–' : x.toFixed(digits));

function printWatch(look: WatchLook): void {
  for (const c of [look.newModel, look.previous]) {
    out(
      `  ${c.version}: ${c.clickedCarousels} of ${c.carousels} carousels clicked, ${c.clicks} clicks on ${c.items} shown items (${c.from} to ${c.to})`,
    );
  }
  out(`  ${look.verdict}: ${look.reason}`);
}

function printGate(decision: GateDecision): void {
  for (const check of decision.checks)
    out(`  ${check.passed ? 'pass' : 'FAIL'}  ${check.name}: ${check.detail}`);
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description(
      'the model registry (model.registryDir): versions, lineage, promotion through the gate, rollback',
    );

  withConfigFlags(
    models.command('ls').description('every version, the active one marked').option('--json', 'print JSON'),
  ).action(async (flags: { json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const manifest = await readManifest(config.model.registryDir);
    if (flags.json) {
      out(JSON.stringify(manifest, null, 2));
      return;
    }
    out(
      `${'version'.padEnd(32)} ${'created'.padEnd(24)} ${'log loss'.padStart(9)} ${'AUC'.padStart(7)}  description`,
    );
    for (const m of manifest.models) {
      const mark = m.version === manifest.active ? '* ' : '  ';
      out(
        `${(mark + m.version).padEnd(32)} ${m.created.padEnd(24)} ${num(m.metrics.holdoutLogLoss).padStart(9)} ${num(m.metrics.holdoutAuc, 4).padStart(7)}  ${m.description ?? ''}`,
      );
    }
    const holdback = manifest.holdback;
    if (holdback)
      out(`holdback: ${holdback.percent} % of users still on ${holdback.version} while the watch looks`);
  });

  withConfigFlags(
    models
      .command('show <version>')
      .description('one version: entry, lineage, holdout metrics, gate against the active model, history')
      .option('--json', 'print JSON'),
  ).action(async (version: string, flags: { json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const dir = config.model.registryDir;
    const manifest = await readManifest(dir);
    const entry = manifest.models.find((m) => m.version === version);
    if (!entry) {
      throw new CroupierError(
        'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
        `model registry ${dir} has no version ${version} (croupier models ls lists them)`,
        { version },
      );
    }
    const lineage = await readLineage(dir, version);
    const history = (await readHistory(dir)).filter((e) => e.from === version || e.to === version);
    const gate =
      lineage && version !== manifest.active
        ? await judgeCandidate({
            config,
            lineage,
            active: manifest.active,
            estimator: offPolicyEstimatorFor(config, openArchiveFileSystem(config.archive)),
          })
        : null;
    if (flags.json) {
      out(JSON.stringify({ entry, active: manifest.active === version, lineage, gate, history }, null, 2));
      return;
    }
    out(`${version}${manifest.active === version ? ' (active)' : ''}: ${entry.description ?? ''}`);
    out(
      `file ${entry.file}, created ${entry.created}, feature spec ${entry.featureSpec} ${entry.featureSpecHash}`,
    );
    if (lineage) {
      out(`lineage (${lineageFileOf(version)}), reliability diagram ${reliabilityFileOf(version)}:`);
      out(`  kind ${lineage.kind}, seed ${lineage.seed}, code ${lineage.codeVersion}`);
      out(`  hyper-parameters ${JSON.stringify(lineage.hyperParameters)}`);
      out(
        `  window ${lineage.window.from} to ${lineage.window.to}, holdout from ${lineage.window.holdoutStart}, attribution ${lineage.window.attributionWindowSeconds} s`,
      );
      out(
        `  archive ${lineage.archive.location}: ${lineage.archive.files.length} files, offsets ${lineage.archive.offsetRanges.map((r) => `p${r.partition} ${r.start}..${r.end}`).join(', ')}`,
      );
      out(`  rows ${JSON.stringify(lineage.rows)}`);
      out(
        `  parity ${lineage.parity.passed ? 'passed' : 'FAILED'}: max |diff| ${lineage.parity.maxAbsDiff.toExponential(2)} on ${lineage.parity.rows} rows`,
      );
      const e = lineage.gateEvidence;
      out(
        `  holdout log loss ${num(e.candidateLogLoss)}${e.comparedWith ? `, ${e.comparedWith} ${num(e.activeLogLoss ?? undefined)}` : ''}`,
      );
    } else out('no lineage (not trained by croupier train)');
    for (const [key, value] of Object.entries(entry.metrics)) out(`  ${key}: ${value}`);
    if (gate) {
      out(`gate against the active model ${manifest.active}: ${gate.passed ? 'passes' : 'does not pass'}`);
      printGate(gate);
    }
    for (const e of history) {
      out(`${e.at} ${e.action} ${e.from} → ${e.to}: ${e.reason}`);
      if (e.watch) printWatch(e.watch);
    }
    const watched = promotionToWatch(await readHistory(dir), manifest.active);
    if (version === manifest.active && watched) {
      out(`the watch of this promotion (${watched.at}) goes on: croupier models watch looks now`);
    }
  });

  withConfigFlags(
    models
      .command('promote <version>')
      .description(
        'make a version active when it passes the promotion gate (train.gate); exits 1 when it does not',
      )
      .option('--force', 'promote even when the gate refuses (recorded in history.json)'),
  ).action(async (version: string, flags: { force?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const dir = config.model.registryDir;
    const manifest = await readManifest(dir);
    if (!manifest.models.some((m) => m.version === version)) {
      throw new CroupierError(
        'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
        `model registry ${dir} has no version ${version} (croupier models ls lists them)`,
        { version },
      );
    }
    const lineage = await readLineage(dir, version);
    const decision: GateDecision = lineage
      ? await judgeCandidate({
          config,
          lineage,
          active: manifest.active,
          estimator: offPolicyEstimatorFor(config, openArchiveFileSystem(config.archive)),
        })
      : {
          passed: false,
          checks: [{ name: 'lineage', passed: false, detail: `${version} has no lineage to judge it by` }],
        };
    out(`gate for ${version} against ${manifest.active}: ${decision.passed ? 'passes' : 'does not pass'}`);
    printGate(decision);
    if (!decision.passed && !flags.force) {
      out(`${version} stays a candidate (--force promotes it anyway)`);
      process.exitCode = 1;
      return;
    }
    const event = await promoteVersion(
      dir,
      version,
      decision.passed ? 'the gate passed' : 'forced past the gate',
      decision,
      config.train.watch.holdbackPercent,
    );
    out(`promoted ${event.to} (was ${event.from})`);
  });

  withConfigFlags(
    models
      .command('watch')
      .description(
        "one look of the post-promotion watch (train.watch): the active model's live click-through since its promotion against the previous model's on its holdback (or, without one, before the promotion), from the archive, by the always-valid sequential test; rolls back on a significant loss",
      )
      .option('--archive <uri>', 'archive to read (default archive.uri)')
      .option('--json', 'print JSON'),
  ).action(async (flags: { archive?: string; json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const archive = openArchiveFileSystem({ ...config.archive, uri: flags.archive ?? config.archive.uri });
    const outcome = await watchPromotion({ config, archive });
    if (flags.json) {
      out(JSON.stringify(outcome, null, 2));
      return;
    }
    if (outcome.status === 'idle') {
      out(outcome.reason);
      return;
    }
    const p = outcome.look.promotion;
    out(`watch of ${p.to} (promoted over ${p.from} at ${p.at}): ${outcome.status}`);
    printWatch(outcome.look);
    if (outcome.event) out(`${outcome.event.action} ${outcome.event.from} → ${outcome.event.to} recorded`);
  });

  withConfigFlags(
    models.command('rollback').description('make the model active before the last promotion active again'),
  ).action(async (_flags: unknown, command: Command) => {
    const config = configFromCommand(command);
    const event = await rollbackActive(config.model.registryDir, 'croupier models rollback');
    out(`rolled back to ${event.to} (was ${event.from})`);
  });
}

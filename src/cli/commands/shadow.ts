/**
 * `croupier shadow`: candidate policies and models evaluated on logged traffic before they go live. Reads the
 * carousels that logged their candidate sets from the archive (`--archive`, a window with `--from`/`--to`) or a
 * recording (`--input`, written by `croupier simulate --record`), and prints for each `--candidate` its IPS, SNIPS
 * and doubly robust CTR with 95 % bootstrap intervals, its lift over the logged policy, weight diagnostics and a
 * verdict (`--json` for JSON, `--report DIR` for report.json, report.txt and report.svg). `--live` follows the
 * experiments' live shadow policy over time with the always-valid sequential interval.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readRecording } from '../../../simulator/replay/recording.ts';
import { openArchiveFileSystem } from '../../archive/fs/open.ts';
import { CroupierError } from '../../errors/index.ts';
import { textTable } from '../../report/charts.ts';
import { evaluateShadow } from '../../shadow/evaluate-shadow.ts';
import { liveShadow } from '../../shadow/live.ts';
import type { LoggedCarousel } from '../../shadow/logged-carousel.ts';
import { parseCandidateSpec } from '../../shadow/policy-spec.ts';
import { carouselsFromRecording, type RecordingEvent } from '../../shadow/recording-source.ts';
import { shadowSvg, shadowText } from '../../shadow/shadow-report.ts';
import { carouselsFromArchive } from '../../train/shadow-input.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';
import { FLAG_RANGES, numberFlag } from '../flags.ts';
import { parseInstant } from './train.ts';

interface ShadowFlags {
  archive?: string;
  from?: number;
  to?: number;
  input?: string;
  candidate: string[];
  json?: boolean;
  report?: string;
  live?: boolean;
  replicates: string;
  seed: string;
  maxWeight?: string;
}

/** Bootstrap resamples: each one re-reads every evaluated impression once per estimator. */
const REPLICATES = { min: 1, max: 100_000, integer: true };

function inputError(message: string): never {
  throw new CroupierError('CROUPIER_ERR_SHADOW_INPUT', message);
}

export function registerShadowCommand(program: Command): void {
  withConfigFlags(
    program
      .command('shadow')
      .description(
        'evaluate candidate policies and models on logged carousels (IPS, SNIPS, doubly robust, bootstrap intervals, lift, verdict)',
      )
      .option('--archive <uri>', 'read the archive (default archive.uri when --input is not given)')
      .option('--from <time>', 'first carousel time (ISO 8601 or epoch ms)', parseInstant)
      .option('--to <time>', 'end of the window, exclusive', parseInstant)
      .option('--input <file>', 'read a recording (JSON lines) written by croupier simulate --record')
      .option(
        '--candidate <spec>',
        'a candidate: policy=greedy, policy=thompson,priorStrength=50, policy=thompson,model=<version> (repeatable)',
        (value: string, all: string[]) => [...all, value],
        [] as string[],
      )
      .option('--live', "follow the experiments' live shadow policy over time (always-valid interval)")
      .option('--replicates <n>', 'bootstrap resamples', '500')
      .option('--seed <n>', 'seed of the bootstrap', '1')
      .option('--max-weight <w>', 'clip importance weights at w (default: no clipping)')
      .option('--json', 'print JSON')
      .option('--report <dir>', 'write report.json, report.txt and report.svg here'),
  ).action(async (flags: ShadowFlags, command: Command) => {
    const config = configFromCommand(command);
    if (flags.input !== undefined && flags.archive !== undefined)
      inputError('give --input or --archive, not both');
    if (flags.input !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
      inputError('--from and --to select a window of the archive; a recording is read whole');
    }
    if (!flags.live && flags.candidate.length === 0) {
      inputError('name at least one --candidate, e.g. --candidate policy=greedy (or use --live)');
    }
    const candidates = flags.candidate.map(parseCandidateSpec);
    const replicates = numberFlag('--replicates', flags.replicates, REPLICATES, 'CROUPIER_ERR_SHADOW_INPUT');
    const seed = numberFlag('--seed', flags.seed, FLAG_RANGES.seed, 'CROUPIER_ERR_SHADOW_INPUT');
    const maxWeight = flags.maxWeight === undefined ? undefined : Number(flags.maxWeight);
    if (maxWeight !== undefined && !(maxWeight > 0))
      inputError(`--max-weight expects a number > 0, got '${flags.maxWeight}'`);
    let carousels: LoggedCarousel[];
    if (flags.input !== undefined) {
      carousels = carouselsFromRecording(readRecording(flags.input) as RecordingEvent[], flags.input);
    } else {
      const archive = openArchiveFileSystem({ ...config.archive, uri: flags.archive ?? config.archive.uri });
      carousels = await carouselsFromArchive(archive, {
        fromMs: flags.from ?? null,
        toMs: flags.to ?? null,
        attributionWindowMs: config.train.attributionWindowSeconds * 1000,
        memoryLimit: config.train.memoryLimit,
        tempDir: config.train.tempDir,
      });
    }
    if (flags.live) {
      const live = liveShadow(carousels);
      if (flags.json) {
        console.log(JSON.stringify(live, null, 2));
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
      console.log(
        textTable(
          [
            'carousels',
            'impressions',
            'logged CTR',
            `shadow ${live.shadowPolicy} CTR (SNIPS)`,
            'ESS',
            'shadow − logged, always-valid 95%',
            'p',
          ],
          live.looks.map((look) => [
            look.carousels,
            look.impressions,
            pct(look.loggedCtr),
            pct(look.shadowCtr),
            look.effectiveSampleSize.toFixed(0),
            `${pct(look.test.estimate)} [${pct(look.test.ci[0])}, ${pct(look.test.ci[1])}]`,
            look.test.pValue.toFixed(3),
          ]),
        ),
      );
      if (live.firstUnusable !== null) {
        const first = live.firstUnusable;
        console.log(`unusable ${live.unusable}: the first, carousel ${first.requestId}: ${first.problem}`);
      }
      console.log(`shadow ${live.shadowPolicy}: ${live.verdict}`);
      return;
    }
    const report = evaluateShadow(carousels, candidates, {
      replicates,
      seed,
      ...(maxWeight !== undefined ? { maxWeight } : {}),
    });
    if (flags.report !== undefined) {
      mkdirSync(flags.report, { recursive: true });
      writeFileSync(join(flags.report, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(flags.report, 'report.txt'), shadowText(report));
      writeFileSync(join(flags.report, 'report.svg'), shadowSvg(report));
    }
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else process.stdout.write(shadowText(report));
  });
}

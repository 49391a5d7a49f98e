/**
 * `croupier simulate [scenario]`: plays a scenario of the simulated world against a running gateway over N
 * WebSocket clients, publishing the catalog and user changes to Kafka as CDC events; or, with
 * `--in-process`, plays policies against the world directly (no network). Prints the report table and
 * writes JSON and SVG with `--report DIR`; `--record FILE` keeps the traffic for `croupier replay`.
 */
import type { Command } from 'commander';
import { SIM_POLICIES, type SimPolicyName } from '../../../simulator/bandit/policies.ts';
import { runInProcess, runKArmed } from '../../../simulator/bandit/runner.ts';
import { simulateAgainstGateway } from '../../../simulator/client/gateway-driver.ts';
import {
  createKafkaCdcPublisher,
  type KafkaCdcPublisher,
} from '../../../simulator/client/kafka-publisher.ts';
import { createRecordingWriter } from '../../../simulator/replay/recording.ts';
import { reportTable, writeReport } from '../../../simulator/report/render.ts';
import { runLoggedTraffic } from '../../../simulator/shadow/logged-run.ts';
import { snapshotRecords } from '../../../simulator/world/cdc.ts';
import { listScenarios, loadScenario } from '../../../simulator/world/scenario.ts';
import { createWorld } from '../../../simulator/world/world.ts';
import { examinationTable } from '../../../streams/fold/position-bias.ts';
import { loadSchemas } from '../../../streams/schemas/index.ts';
import type { NumericRange } from '../../domain/limits.ts';
import { CroupierError } from '../../errors/index.ts';
import { createEventCodec, createKafka } from '../../kafka/index.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';
import { FLAG_RANGES, gatewayUrlFlag, numberFlag, writableDirectory, writableFile } from '../flags.ts';

interface SimulateFlags {
  inProcess?: boolean;
  url?: string;
  policies: string;
  rate: string;
  duration?: string;
  seed?: string;
  sessionSeed?: string;
  clients: string;
  record?: string;
  report?: string;
  brokers?: string;
  registry?: string;
  publish: boolean;
  publishOnly?: boolean;
  items?: string;
}

const SCENARIO_INVALID = 'CROUPIER_ERR_SCENARIO_INVALID';
const flagNumber = (flag: string, text: string, range: NumericRange) =>
  numberFlag(flag, text, range, SCENARIO_INVALID);

export function registerSimulateCommand(program: Command): void {
  withConfigFlags(
    program
      .command('simulate')
      .argument('[scenario]', `scenario name (${listScenarios().join(', ')}) or a JSON file`, 'steady-state')
      .description('play a simulated world against the gateway (or in process) and report CTR and regret')
      .option('--in-process', 'run policies against the world directly, no gateway')
      .option('--url <ws-url>', 'gateway WebSocket URL (default: from gateway.host/port, path /ws)')
      .option('--policies <list>', `in-process policies (${SIM_POLICIES.join(', ')})`, SIM_POLICIES.join(','))
      .option('--rate <n>', 'carousel requests per second against the gateway', '50')
      .option(
        '--duration <seconds>',
        'wall-clock seconds against the gateway (in process: simulated seconds)',
      )
      .option('--seed <n>', "override the scenario's seed")
      .option(
        '--session-seed <n>',
        "seed of the sessions and users' responses apart from the world's (default: the world's seed)",
      )
      .option('--clients <n>', 'concurrent WebSocket clients', '20')
      .option(
        '--record <file>',
        "write requests, responses (with propensities and candidate sets) and feedback as JSON lines for croupier replay and shadow; in process: the first policy's traffic",
      )
      .option('--report <dir>', 'write report.json, report.svg and report.txt here')
      .option('--brokers <list>', 'Kafka bootstrap brokers for the CDC events (default: kafka.brokers)')
      .option('--registry <url>', 'schema registry URL (default: schemaRegistry.url)')
      .option('--no-publish', 'do not publish CDC events (the catalog is already in the gateway)')
      .option('--publish-only', "publish the scenario's catalog and users as CDC events, then exit")
      .option('--items <n>', "override the scenario's initial number of items"),
  ).action(async (scenarioName: string, flags: SimulateFlags, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({
      level: config.log.level,
      pretty: config.log.pretty,
      name: 'simulate',
      fd: 2,
    });
    const loaded = loadScenario(scenarioName);
    const scenario =
      flags.items !== undefined && loaded.kind === 'world'
        ? {
            ...loaded,
            items: { ...loaded.items, initial: flagNumber('--items', flags.items, FLAG_RANGES.items) },
          }
        : loaded;
    const seed = flags.seed !== undefined ? flagNumber('--seed', flags.seed, FLAG_RANGES.seed) : undefined;
    const durationSeconds = flags.duration
      ? flagNumber('--duration', flags.duration, FLAG_RANGES.durationSeconds)
      : undefined;
    const url = gatewayUrlFlag(
      flags.url ?? `ws://${config.gateway.host}:${config.gateway.port}/ws`,
      SCENARIO_INVALID,
    );
    const rate = flagNumber('--rate', flags.rate, FLAG_RANGES.rate);
    const clients = flagNumber('--clients', flags.clients, FLAG_RANGES.clients);
    const sessionSeed =
      flags.sessionSeed === undefined
        ? undefined
        : flagNumber('--session-seed', flags.sessionSeed, FLAG_RANGES.seed);
    // Outputs are checked before the run, so that a long run's record or report is not lost at its end.
    if (flags.record) writableFile('--record', flags.record, 'CROUPIER_ERR_RECORDING_INVALID');
    if (flags.report) writableDirectory('--report', flags.report, SCENARIO_INVALID);
    let report: ReturnType<typeof runInProcess>;
    if (flags.inProcess) {
      const policies = flags.policies.split(',').map((p) => p.trim()) as SimPolicyName[];
      for (const p of policies) {
        if (!SIM_POLICIES.includes(p)) {
          throw new CroupierError(
            'CROUPIER_ERR_SCENARIO_INVALID',
            `unknown policy '${p}'; use ${SIM_POLICIES.join(', ')}`,
          );
        }
      }
      // The engine's settings drive the policies: `model.priorStrength`, `model.epsilon`, `model.ucbC`, Thompson
      // sampling's tempering, and the counts as the topology folds them (`stream.positionBias`).
      const { priorStrength, epsilon, ucbC } = config.model;
      const tempering = {
        temperature: config.model.thompsonTemperature,
        impressions: config.model.temperingImpressions,
      };
      const examination = examinationTable(config.stream.positionBias);
      report = runInProcess({
        scenario,
        policies,
        priorStrength,
        epsilon,
        ucbC,
        tempering,
        ...(examination !== undefined ? { examination } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      });
      if (flags.record) {
        // The first policy's traffic as the gateway logs it (propensities, candidate sets at
        // log.candidateSampleRate), in the recording format of a run against the gateway.
        const recorder = createRecordingWriter(flags.record);
        try {
          runLoggedTraffic({
            scenario,
            policy: policies[0],
            priorStrength,
            epsilon,
            ucbC,
            tempering,
            ...(examination !== undefined ? { examination } : {}),
            candidateSampleRate: config.log.candidateSampleRate,
            recorder,
            ...(seed !== undefined ? { seed } : {}),
            ...(durationSeconds !== undefined ? { durationSeconds } : {}),
          });
        } finally {
          await recorder.close();
        }
      }
      if (scenario.kind === 'k-armed') {
        report.kArmed = runKArmed({
          arms: scenario.arms,
          policies,
          pulls: scenario.pulls,
          seed: report.seed,
          epsilon,
          ucbC,
          tempering,
        });
      }
    } else {
      let publisher: KafkaCdcPublisher | null = null;
      if (flags.publish) {
        const brokers = flags.brokers ? flags.brokers.split(',') : config.kafka.brokers;
        const registryUrl = flags.registry ?? config.schemaRegistry.url;
        if (brokers.length === 0 || registryUrl === '') {
          throw new CroupierError(
            'CROUPIER_ERR_SIM_GATEWAY',
            'publishing CDC events needs Kafka and the schema registry: pass --brokers host:port and --registry URL (as croupier start prints them), or --no-publish',
          );
        }
        publisher = await createKafkaCdcPublisher({
          kafka: createKafka(config.kafka, brokers, { logger }),
          codec: createEventCodec({ registryUrl, schemas: loadSchemas(), logger }),
          topics: config.kafka.topics,
          partitions: config.kafka.partitions,
        });
      }
      if (flags.publishOnly) {
        const world = createWorld(scenario, seed !== undefined ? { seed } : {});
        const records = snapshotRecords(world, Date.now());
        await publisher?.publish(records);
        await publisher?.close();
        console.log(`published ${records.length} CDC records of scenario ${scenario.name}`);
        return;
      }
      const recorder = flags.record ? createRecordingWriter(flags.record) : null;
      try {
        report = await simulateAgainstGateway({
          url,
          scenario,
          ...(seed !== undefined ? { seed } : {}),
          ...(sessionSeed !== undefined ? { sessionSeed } : {}),
          durationSeconds: durationSeconds ?? 60,
          rate,
          clients,
          publisher,
          recorder,
          logger,
        });
      } finally {
        await recorder?.close();
        await publisher?.close();
      }
    }
    console.log(reportTable(report));
    if (flags.report) console.log(`wrote ${writeReport(flags.report, report).join(', ')}`);
  });
}

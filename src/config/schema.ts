/**
 * croupier's one typed configuration. Every field has an embedded default, so `croupier start` with no
 * configuration runs the whole loop on one machine; every production knob also has an environment variable
 * (see `ENV_BINDINGS` in env.ts).
 */
import { z } from 'zod';
import { DEFAULT_SEGMENT_DEVICES, POLICY_LIMITS } from '../domain/limits.ts';
import { POLICY_NAMES } from '../domain/policy-names.ts';

const port = z.number().int().min(0).max(65535);
/**
 * The longest wait a millisecond setting may ask for: Node's timers hold a 32-bit signed count of ms and run a
 * longer delay after 1 ms instead (with only a warning), so a poll or tick of 2^31 ms would spin.
 */
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * The longest period (`every`) of a scheduled job: 366 days. The scheduler counts a job's intervals back from now
 * in whole periods aligned to the epoch; a longer period has them end at the epoch and begin before the earliest
 * date JavaScript can hold (99999999999d did), and a period past a year retrains too rarely to mean it.
 */
export const MAX_JOB_PERIOD_DAYS = 366;
const PERIOD_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A job's `every`: '' (cron instead) or a period of at most MAX_JOB_PERIOD_DAYS; its form is checked by the scheduler. */
const jobPeriod = z.string().refine(
  (every) => {
    const m = /^(\d+)\s*([smhd])$/.exec(every.trim());
    return m === null || Number(m[1]) * PERIOD_UNIT_MS[m[2]] <= MAX_JOB_PERIOD_DAYS * 86_400_000;
  },
  { message: `a period of at most ${MAX_JOB_PERIOD_DAYS}d (e.g. 10m, 1h, 7d)` },
);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Names every JavaScript object has (`constructor`, `__proto__`, `toString`, …): kafkajs's admin keys its
 * answers by topic in plain objects, so `fetchTopicOffsets` throws a TypeError on a topic of such a name. */
const OBJECT_MEMBER_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
/** A Kafka topic name as Kafka takes it (1–249 of `[A-Za-z0-9._-]`, not `.` or `..`), and one kafkajs can use. */
const topicName = z
  .string()
  .min(1)
  .max(249)
  .regex(/^[A-Za-z0-9._-]+$/, 'a Kafka topic name: letters, digits, . _ -')
  .refine((name) => name !== '.' && name !== '..', { message: 'Kafka refuses the topic names . and ..' })
  .refine((name) => !OBJECT_MEMBER_NAMES.has(name), {
    message:
      'a name every JavaScript object has (kafkajs cannot fetch its offsets): choose another topic name',
  });

export const kafkaSchema = z
  .object({
    /** Bootstrap brokers (`host:port`). Empty: start the embedded broker. */
    brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).default([]),
    clientId: z.string().min(1).default('croupier'),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    topics: z
      .object({
        clickstream: topicName.default('clickstream'),
        cdcItems: topicName.default('cdc.items'),
        cdcUsers: topicName.default('cdc.users'),
        deadLetter: topicName.default('croupier.dlq'),
      })
      .default({}),
    /** Partitions of topics croupier creates (embedded broker and auto-created topics). */
    partitions: z.number().int().min(1).max(1024).default(12),
  })
  .strict();

export const embeddedBrokerSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: port.default(0),
    /** Keep the log in memory when empty; otherwise append-only segment files in this directory. */
    dataDir: z.string().default(''),
    /** Batches older than this (by when the broker appended them, restart or not) are deleted. */
    retentionMs: z
      .number()
      .int()
      .min(-1)
      .default(7 * 24 * 3600 * 1000),
    /**
     * Bytes kept per partition, oldest batches deleted first (-1: unlimited). Default: unlimited with a data
     * directory, 16 MiB per partition in memory, so the in-memory broker of a long demo does not grow forever.
     */
    retentionBytes: z.number().int().min(-1).optional(),
  })
  .strict();

export const schemaRegistrySchema = z
  .object({
    /** Confluent Schema Registry URL. Empty: start the embedded registry. */
    url: z.union([z.literal(''), z.string().url()]).default(''),
    username: z.string().optional(),
    password: z.string().optional(),
    /**
     * How often a writer (the gateway, the topology's dead letters) asks the registry whether the schema ids it
     * writes with still resolve, registering again a subject deleted with `?permanent=true` (ms; 0: never).
     */
    recheckIntervalMs: z
      .number()
      .int()
      .refine((n) => n === 0 || (n >= 1000 && n <= 86_400_000), 'expected 0 (never) or 1000..86400000 ms')
      .default(30_000),
    embedded: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(0),
        /** Where schemas persist; empty keeps them in memory. */
        dataDir: z.string().default(''),
        /**
         * Longest schema it registers, and most schema text it holds in all, in characters (413 past them): each
         * schema is held parsed and compiled for as long as it runs, several times its text.
         */
        maxSchemaChars: z
          .number()
          .int()
          .positive()
          .max(8 * 1024 * 1024)
          .default(1024 * 1024),
        maxStoredChars: z
          .number()
          .int()
          .positive()
          .max(2 ** 31 - 1)
          .default(64 * 1024 * 1024),
      })
      .strict()
      .default({}),
  })
  .strict();

export const redisSchema = z
  .object({
    /** `redis://[user:pass@]host:port[/db]` (or rediss://). Empty: start a child `redis-server` on a free port. */
    url: z
      .union([z.literal(''), z.string().regex(/^rediss?:\/\//, 'expected redis:// or rediss:// URL')])
      .default(''),
    /** Redis Cluster seed nodes (`host:port`); when set, `url` is ignored. */
    clusterNodes: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).default([]),
    /** Key prefix, so several croupier deployments can share one Redis. */
    keyPrefix: z.string().default('croupier:'),
    /** Path of the redis-server binary used for the embedded default. */
    serverBinary: z.string().default('redis-server'),
    /** The embedded `redis-server` (when neither `url` nor `clusterNodes` is set). */
    embedded: z
      .object({
        /**
         * Its data directory (the append-only file). Empty: a temporary directory removed on stop, so the data
         * survives a crash of redis-server (croupier restarts it) but not a restart of croupier. Set it together
         * with `broker.dataDir`: Redis holds the offsets of the broker's log.
         */
        dataDir: z.string().default(''),
        /** Append-only persistence, fsync'ed every second; off: a restarted server starts empty (and is rebuilt). */
        appendOnly: z.boolean().default(true),
        /**
         * Free bytes of the data directory's file system below which `/readyz` warns and the log says so
         * (`croupier_redis_disk_free_bytes` on `/metrics`): Redis refuses every write (MISCONF) once its
         * append-only file cannot grow, and the file reaches 64 MB before its first rewrite, which writes a copy.
         * 0: never warn.
         */
        diskWarnFreeBytes: z
          .number()
          .int()
          .min(0)
          .max(Number.MAX_SAFE_INTEGER)
          .default(256 * 1024 * 1024),
        /** How often that file system's free space is read, ms. */
        diskCheckMs: z.number().int().max(MAX_TIMER_MS).positive().default(10_000),
      })
      .strict()
      .default({}),
  })
  .strict();

export const archiveSchema = z
  .object({
    /** Where the archive lives: `./dir`, `/abs/dir`, `file:///abs/dir`, or `webhdfs://namenode:9870/path` (`swebhdfs://` for TLS). */
    uri: z
      .string()
      .min(1)
      .refine((uri) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || /^(file|webhdfs|swebhdfs):\/\//i.test(uri), {
        message: 'expected a path, file:///dir, webhdfs://namenode:9870/path or swebhdfs://...',
      })
      .default('./data/archive'),
    /** WebHDFS `user.name` (pseudo authentication); ignored when a delegation token is set. */
    hdfsUser: z.string().optional(),
    /** WebHDFS delegation token (`delegation=`), instead of `user.name`. */
    hdfsDelegationToken: z.string().optional(),
    /** The URI names an HttpFS gateway: uploads go to it directly (`data=true`), no datanode redirect. */
    httpfs: z.boolean().default(false),
    /** `croupier start` runs the archive in a worker thread. */
    enabled: z.boolean().default(true),
    /** File format: Parquet (DuckDB, Spark, Trino read it) or Avro object container files (deflate). */
    format: z.enum(['parquet', 'avro']).default('parquet'),
    /**
     * Parquet compression codec. snappy, gzip and uncompressed files are written straight from the records' Avro
     * bytes; zstd goes through DuckDB (decoded, staged as JSON, converted: several times the CPU per record).
     */
    compression: z.enum(['zstd', 'snappy', 'gzip', 'uncompressed']).default('snappy'),
    /** Consumer group of the archive; its Kafka offsets are for lag monitoring only (the files are the truth). */
    groupId: z.string().min(1).default('croupier-archive'),
    /** A file is closed at this many records. */
    flushRecords: z.number().int().positive().default(100_000),
    /** A file is closed when its records span this much record (Kafka timestamp) time, ms; 0: only at the hour. */
    rotateIntervalMs: z.number().int().max(MAX_TIMER_MS).min(0).default(60_000),
    /** A file is closed after this much wall-clock time without a new record in its partition, ms. */
    idleRotateMs: z.number().int().max(MAX_TIMER_MS).positive().default(60_000),
    /** Date directories older than this many days are removed; 0 keeps everything. */
    retentionDays: z.number().int().min(0).default(0),
    /** How often `croupier start` compacts the archive (ms); 0: never (run `croupier archive compact`). */
    compactIntervalMs: z.number().int().max(MAX_TIMER_MS).min(0).default(600_000),
    /** Compaction merges consecutive files of one partition and hour up to this many bytes. */
    compactTargetBytes: z
      .number()
      .int()
      .positive()
      .default(128 * 1024 * 1024),
    /** Local directory for files being built before upload (HDFS); empty: the system temp directory. */
    stagingDir: z.string().default(''),
    /** Partitions written at once. */
    partitionsConcurrently: z.number().int().positive().default(12),
    /**
     * Build Parquet files (every codec but zstd) on a thread of their own, so fetching and building overlap; off,
     * the consumer's thread builds them.
     */
    builderThread: z.boolean().default(true),
    /** Longest a fetch waits for records (kafkajs `maxWaitTimeInMs`). */
    maxWaitMs: z.number().int().max(MAX_TIMER_MS).positive().default(200),
    maxBytesPerPartition: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    sessionTimeoutMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    /** How often committed file offsets are committed to Kafka (for lag monitoring only). */
    commitIntervalMs: z.number().int().max(MAX_TIMER_MS).positive().default(1000),
    /**
     * A partition with records waiting in the log that the archive has not taken for this long, or records taken
     * and not in a committed file for this long beyond the rotation interval, is reported as stalled (/readyz,
     * /metrics), ms. The log ends are read every `commitIntervalMs`.
     */
    stallAfterMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    logIntervalMs: z.number().int().max(MAX_TIMER_MS).positive().default(10_000),
    /**
     * How long a running archive's lease on its Kafka cluster (`+clusters/` under the archive) holds after its last
     * beat (renewed every third of it), ms. An archive of another cluster whose partitions' markers name a cluster
     * with a live lease waits instead of archiving over it; a stopped archive's lease is removed at once, a killed
     * one's runs out after this long.
     */
    clusterLeaseMs: z.number().int().min(300).max(MAX_TIMER_MS).default(30_000),
    /** Timeout of one WebHDFS request (ms). */
    requestTimeoutMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    /** Backoff while the file system or the registry fails: first wait, doubled per failure up to the maximum. */
    retryInitialMs: z.number().int().max(MAX_TIMER_MS).positive().default(200),
    retryMaxMs: z.number().int().max(MAX_TIMER_MS).positive().default(10_000),
  })
  .strict();

export const modelSchema = z
  .object({
    /**
     * Model registry directory (holds manifest.json and the ONNX files); retraining writes its versions here.
     * Created from the shipped `models/` registry (default-1) when missing or empty.
     */
    registryDir: z.string().min(1).default('./data/models'),
    /** Execution providers in order of preference; CPU is always the last resort. */
    executionProviders: z
      .array(z.enum(['cuda', 'webgpu', 'cpu']))
      .min(1)
      .default(['cpu']),
    /** Strength m of the model-informed Beta prior. */
    priorStrength: z
      .number()
      .min(POLICY_LIMITS.priorStrength.min)
      .max(POLICY_LIMITS.priorStrength.max)
      .default(20),
    /** Micro-batch concurrent scoring requests into one ONNX Runtime run. */
    batching: z.boolean().default(true),
    /** Longest a micro-batch waits for more requests, µs (0: until the next event-loop turn). */
    batchWaitUs: z.number().int().min(0).max(200).default(0),
    /** A micro-batch is scored at once when it holds this many rows. */
    maxBatchRows: z.number().int().positive().default(16_384),
    /** ONNX Runtime intra-op threads per session. */
    intraOpThreads: z.number().int().min(1).max(64).default(1),
    /**
     * 'auto': a small dense model on the CPU (a chain of MatMul → Add → Relu/Sigmoid layers of at most 4,096
     * multiply-adds a row, as `croupier train` writes) is scored in the gateway's thread once it agrees with ONNX
     * Runtime on the probe rows, without the wait for an asynchronous run; 'off': always ONNX Runtime.
     */
    inline: z.enum(['auto', 'off']).default('auto'),
    /** Reload the model when the registry's manifest.json changes. */
    watchRegistry: z.boolean().default(true),
    /** Monte Carlo replicates R of Thompson-sampling propensities. */
    propensityReplicates: z.number().int().min(1).max(100_000).default(8),
    /** δ of the reported propensity error bound (holds with probability 1 − δ). */
    propensityDelta: z.number().gt(0).lt(1).default(0.05),
    /**
     * Most candidates one decision scores. A larger pool (after the request's filters) is narrowed first to the
     * items with the highest optimistic click-through of their own arm (README, Deciding a carousel).
     */
    maxCandidates: z.number().int().min(1).max(100_000).default(500),
    /** How long that narrowing is reused per segment and category before it is ranked again, ms. */
    retrievalRefreshMs: z.number().int().min(0).max(3_600_000).default(1000),
    /**
     * Devices (a request's `context.device`) whose posteriors are kept apart; a request from any other device
     * counts as `other`. The device is the client's to say: without a list, each made-up device would open new
     * arms in Redis and in every gateway's cache.
     */
    segmentDevices: z
      .array(z.string().min(1).max(32))
      .max(64)
      .default([...DEFAULT_SEGMENT_DEVICES]),
    /** Exploration probability of the epsilon-greedy policy. */
    epsilon: z.number().min(0).max(1).default(0.1),
    /** Exploration weight c of the UCB1 policy. */
    ucbC: z.number().min(0).max(POLICY_LIMITS.ucbC.max).default(1),
    /**
     * Temperature τ₀ of Thompson sampling's posterior for an arm without impressions: draws come from
     * Beta(α/τ, β/τ), the same mean with about τ times the variance (1: plain Thompson sampling). Chosen on the
     * simulator's scenarios (README, Regret).
     */
    thompsonTemperature: z
      .number()
      .min(POLICY_LIMITS.thompsonTemperature.min)
      .max(POLICY_LIMITS.thompsonTemperature.max)
      .default(0.3),
    /** Impressions n₀ at which an arm's temperature has come halfway back to 1: τ = 1 − (1 − τ₀)·n₀/(n₀ + n). */
    temperingImpressions: z.number().positive().default(500),
    /** Experiments JSON file (layers, variants, holdout, shadow); empty: no experiments. */
    experimentsFile: z.string().default(''),
    /**
     * A second registry version that also scores the carousels whose candidate set is logged
     * (`log.candidateSampleRate`), after the reply and never shown; its p̂ are logged with the candidate set, so
     * `croupier shadow --candidate policy=thompson,model=<version>` evaluates it. Empty: none.
     */
    shadowVersion: z
      .string()
      .regex(/^([A-Za-z0-9][A-Za-z0-9._-]*)?$/, 'a model version of the registry (letters, digits, . _ -)')
      .default(''),
  })
  .strict();

/** Retraining from the archive (`croupier train`) and the promotion gate (`croupier models promote`). */
export const trainSchema = z
  .object({
    /** A click, conversion or watch counts for a shown item when it comes this many seconds after the carousel. */
    attributionWindowSeconds: z.number().int().positive().default(1800),
    /** The last share of the time window held out for offline metrics and the gate. */
    holdoutFraction: z.number().gt(0).lt(1).default(0.2),
    /** The last share of the training part used for early stopping (MLP) and nothing else. */
    validationFraction: z.number().gt(0).lt(1).default(0.1),
    /** DuckDB's memory limit while building the training set; beyond it DuckDB spills to `tempDir`. */
    memoryLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'e.g. 512MB, 2GiB')
      .default('1GB'),
    /** Where DuckDB spills (empty: the system temp directory). */
    tempDir: z.string().default(''),
    /** Model kind `croupier train` fits without --kind. */
    kind: z.enum(['logistic', 'mlp']).default('logistic'),
    seed: z.number().int().min(0).default(1),
    /**
     * Feature-spec columns the trainers do not learn from (weight 0), e.g. the exposure counts, which in logged
     * bandit data measure the serving policy's choices rather than an item's merit (README, Retraining). None by
     * default: holding them out has not yet raised simulated click-through.
     */
    heldOutColumns: z.array(z.string().min(1)).default([]),
    /** L2 penalty of the logistic regression (per row: the loss is the mean log loss + l2/2 · |w|²). */
    l2: z.number().min(0).default(1e-4),
    mlp: z
      .object({
        hidden: z.array(z.number().int().min(1).max(1024)).min(1).max(4).default([32, 16]),
        learningRate: z.number().positive().default(0.003),
        batchSize: z.number().int().min(1).default(512),
        maxEpochs: z.number().int().min(1).default(30),
        /** Stop after this many epochs without a better validation log loss. */
        patience: z.number().int().min(1).default(3),
        l2: z.number().min(0).default(1e-5),
      })
      .strict()
      .default({}),
    /** Largest absolute difference allowed between ONNX Runtime's and the trainer's predictions. */
    parityTolerance: z.number().positive().default(1e-5),
    gate: z
      .object({
        /** The candidate's holdout log loss must be below the active model's by at least this much. */
        logLossMargin: z.number().min(0).default(0.001),
        /** Refuse a candidate whose AUC is below the active model's by more than the paired interval allows. */
        requireAucNotWorse: z.boolean().default(true),
        /** Confidence of the AUC difference interval. */
        aucConfidence: z.number().gt(0).lt(1).default(0.95),
        /**
         * The off-policy check: the candidate model's policy, estimated with the shadow test's estimators (DR) from
         * carousels whose candidate sets it scored in shadow (`model.shadowVersion`), must not be below the active
         * one's with `offPolicyConfidence`. `when-available`: checked when such carousels exist, passed with a note
         * otherwise; `required`: refused without them; `off`: not checked.
         */
        offPolicy: z.enum(['off', 'when-available', 'required']).default('when-available'),
        offPolicyConfidence: z.number().gt(0).lt(1).default(0.95),
        /** Fewest shown items (of carousels with the candidate's shadow scores) the estimate needs as evidence. */
        offPolicyMinRows: z.number().int().min(1).default(1000),
      })
      .strict()
      .default({}),
    /**
     * After a promotion: the new model's live click-through against the previous model's, by the always-valid
     * sequential test (mSPRT), rolled back on a significant loss (`croupier models watch`, the `watch` job).
     */
    watch: z
      .object({
        /** How long after a promotion the watch looks; after it, the promotion is kept. */
        durationSeconds: z.number().int().positive().default(3600),
        /**
         * Share of users, percent, a promotion keeps on the previous model while it is watched (the holdback): the
         * watch compares the two over the same time. 0: no holdback; the baseline is then the previous model's
         * carousels before the promotion.
         */
        holdbackPercent: z.number().min(0).max(50).default(10),
        /** Without a holdback: the previous model's carousels this long before the promotion are the baseline. */
        baselineSeconds: z.number().int().positive().default(3600),
        /** Level α of the sequential test (false rollbacks stay below α however often it looks). */
        alpha: z.number().gt(0).lt(1).default(0.05),
        /** Standard deviation τ of the mixing prior on the difference of click-through rates. */
        tau: z.number().positive().default(0.02),
        /** Fewest carousels on each side before a look can decide. */
        minCarousels: z.number().int().min(1).default(200),
        /**
         * A click counts for the watch when it comes this many seconds after its carousel, and a carousel counts
         * once the archive of its partition reaches this far past it, so both sides are measured alike.
         */
        attributionSeconds: z.number().int().positive().default(60),
      })
      .strict()
      .default({}),
  })
  .strict();

/** Periodic jobs `croupier start` runs (and `croupier jobs run` triggers), with their run ledger in Redis. */
export const jobsSchema = z
  .object({
    /** `croupier start` runs the schedule. */
    enabled: z.boolean().default(true),
    /** How often the scheduler looks for due intervals, ms. */
    tickMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    /** A run's lease in the ledger, ms (extended while the run lasts; another instance takes over after it). */
    leaseMs: z.number().int().max(MAX_TIMER_MS).positive().default(600_000),
    /** Attempts of a failing run before it is left failed. */
    maxAttempts: z.number().int().min(1).default(3),
    /** Wait before the first retry, ms; doubles with each attempt. */
    retryBackoffMs: z.number().int().max(MAX_TIMER_MS).min(0).default(60_000),
    /** Missed intervals run when the scheduler comes back: at most the last this many of each job. */
    catchUp: z.number().int().min(1).max(1000).default(3),
    train: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * A period (`30s`, `15m`, `1h`, `1d`, aligned to the epoch; at most 366d) or, with `every` empty, `cron`.
         */
        every: jobPeriod.default('10m'),
        /** A cron expression in UTC, e.g. `0 * * * *` (set `every` to '' to use it). */
        cron: z.string().default(''),
        /** Each run trains on the carousels of this many seconds before the interval's end. */
        lookbackSeconds: z
          .number()
          .int()
          .positive()
          .default(7 * 86_400),
        /** Promote the trained model when it passes the gate (train.gate). */
        promote: z.boolean().default(true),
      })
      .strict()
      .default({}),
    watch: z
      .object({
        /** Watch the last promotion (train.watch) and roll back on a significant loss of click-through. */
        enabled: z.boolean().default(true),
        /** A period or, with `every` empty, `cron` (as for train). */
        every: jobPeriod.default('1m'),
        cron: z.string().default(''),
      })
      .strict()
      .default({}),
    /**
     * A shadow test of the recent archive (`croupier shadow`): the candidates against the logged policy, its report
     * (report.json, report.txt, report.svg) in `reportDir`, a summary in the run ledger for the dashboard.
     */
    shadow: z
      .object({
        enabled: z.boolean().default(true),
        /** A period or, with `every` empty, `cron` (as for train); by default less often than training. */
        every: jobPeriod.default('30m'),
        cron: z.string().default(''),
        /** Each run reads the carousels of this many seconds before the interval's end. */
        lookbackSeconds: z.number().int().positive().default(3600),
        /** Candidate specs as `croupier shadow --candidate` takes them. */
        candidates: z.array(z.string().min(1)).min(1).default(['policy=greedy', 'policy=thompson']),
        /** Bootstrap resamples per run (fewer than the command's 500: a run stays cheap). */
        replicates: z.number().int().positive().default(200),
        /** Where each run's report goes, in a directory named after its interval's end (under the data directory). */
        reportDir: z.string().min(1).default('./data/shadow'),
      })
      .strict()
      .default({}),
  })
  .strict();

export const gatewaySchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: port.default(8080),
    /**
     * A second port answering only /healthz, /readyz and /metrics, for health checks: it answers while the gateway's
     * port stops listening for want of descriptors (unset: none; 0: a port the OS chooses).
     */
    probePort: port.optional(),
    /** HMAC secret for client tokens. Required unless `authDisabled` (demo only). */
    authSecret: z.string().optional(),
    authDisabled: z.boolean().default(true),
    adminToken: z.string().optional(),
    maxConnections: z.number().int().positive().default(10_000),
    maxFrameBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    maxMessagesPerSecond: z.number().positive().default(200),
    maxBackpressureBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    policy: z.enum(POLICY_NAMES).default('thompson'),
    /** Seconds without a message before a WebSocket is closed (uWebSockets.js rounds to ~4 s; 0 disables). */
    idleTimeoutSeconds: z.number().int().min(0).max(960).default(120),
    /** Lifetime of a signed client token minted by `signClientToken` when no expiry is given. */
    tokenTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 3600),
    /** A subscribed client gets at most one pushed carousel per this many ms. */
    pushMinIntervalMs: z.number().int().max(MAX_TIMER_MS).min(0).default(1000),
    /** Push when the posterior mean of a shown item moved by at least this much (absolute). */
    pushMinPosteriorShift: z.number().positive().max(1).default(0.01),
    /** Events held in memory while Kafka is slow or unreachable; beyond this the oldest are shed. */
    eventBufferMax: z.number().int().positive().default(100_000),
    /** The event log sends a batch at least this often (ms). */
    eventBatchMs: z.number().int().max(MAX_TIMER_MS).positive().default(20),
    /** Most events in one produce request. */
    eventBatchMax: z.number().int().positive().default(1000),
    /**
     * Integrate Thompson sampling's logged propensities on a thread of their own, off the thread that deals
     * carousels (false: on that thread, after each reply).
     */
    propensityThread: z.boolean().default(true),
    /**
     * Propensity threads (with `propensityThread`): each batch goes to the one with the fewest carousels in flight.
     * One is enough while it keeps up; on a machine with cores to spare, more carry more carousels a second.
     */
    propensityThreads: z.number().int().min(1).max(64).default(1),
    /** Carousels waiting for the propensity threads before the main thread integrates the next ones itself. */
    propensityBacklog: z.number().int().positive().default(1024),
    /**
     * How long feedback on a carousel that another connection or gateway replica dealt waits for the topology to
     * write that carousel's record (its logged impressions, read from Redis) before it is answered `counted: false`
     * (ms; 0: one read decides). A click through a new connection can come before the record.
     */
    feedbackRecordWaitMs: z.number().int().min(0).max(MAX_TIMER_MS).default(5000),
    /** How often the change-feed cache reads the feeds (ms). */
    cachePollMs: z.number().int().max(MAX_TIMER_MS).positive().default(25),
    /**
     * Users not seen (no hello, no event) and counts of items no longer in the catalog for this long leave the
     * gateway's cache (a returning user's activity is loaded again on hello). 0: never.
     */
    cacheEvictAfterSeconds: z.number().int().min(0).default(3600),
  })
  .strict();

export const streamSchema = z
  .object({
    /** Consumer group of the stream topology; Redis keeps one applied offset per group and partition. */
    groupId: z.string().min(1).default('croupier-state'),
    /** Most records one Redis script applies (a larger fetch is split into several micro-batches). */
    maxBatchRecords: z.number().int().positive().default(5000),
    /** Longest a fetch waits for records (kafkajs `maxWaitTimeInMs`): bounds a micro-batch in time. */
    maxBatchMs: z.number().int().max(MAX_TIMER_MS).positive().default(50),
    decayHalfLifeSeconds: z
      .number()
      .positive()
      .default(24 * 3600),
    /**
     * An event stamped later than this far ahead of the topology's clock enters the decayed counts as if at that
     * time (a producer's clock that ran ahead must not freeze an item's decayed click-through rate).
     */
    decayMaxFutureSeconds: z.number().int().min(0).max(31_536_000).default(300),
    recentClicks: z.number().int().positive().default(20),
    /** Entries kept per partition change feed (`XADD MAXLEN ~`); one entry per applied batch. */
    changeFeedMaxLen: z.number().int().positive().default(10_000),
    /**
     * Change-feed entries older than this are trimmed too (`XTRIM MINID ~`), so a quiet feed holds minutes, not
     * 10,000 batches; a reader further behind takes a fresh snapshot of the partition. 0: by length only.
     */
    changeFeedMaxAgeSeconds: z.number().int().min(0).default(600),
    /**
     * How often the topology compares the offset and marker Redis holds of each of its partitions with what it
     * applied, to find a state Redis lost and fold it again from Kafka without waiting for a new record.
     */
    stateCheckMs: z.number().int().max(MAX_TIMER_MS).positive().default(1000),
    /**
     * How long a request's shown items are kept to match its clicks (`req:<userId>|<requestId>` keys): the attribution
     * window. A click later than this counts as an orphan click; memory stays bounded by traffic × window.
     */
    requestTtlSeconds: z.number().int().positive().default(1800),
    /**
     * How long a user's activity (counts, last activity and recent clicks: the `user:` and `recent:` keys) is kept
     * after their last event; 0: for good. Redis then holds the users active within this window, not every id a
     * client ever said hello as (with auth off any client can make them up). A user seen again after it starts over.
     */
    userActivityTtlSeconds: z
      .number()
      .int()
      .min(0)
      .default(90 * 24 * 3600),
    /**
     * Position-bias model: an impression in slot k counts as an examination with probability e(k), so the
     * posterior's click-through is that of a slot surely seen. On by default: on raw counts an item an exploring
     * policy moves down the carousel reads as worse than it is, and every policy of the simulator's worlds loses
     * more (README, Regret).
     */
    positionBias: z
      .object({
        enabled: z.boolean().default(true),
        /** e(k) = (1 / (k + 1))^eta when `examination` is empty. */
        eta: z.number().min(0).max(4).default(1),
        /** Explicit examination probabilities per slot (0-based); slots past the end use the last one. */
        examination: z.array(z.number().gt(0).max(1)).default([]),
      })
      .strict()
      .default({}),
    /** How often applied offsets are committed to Kafka (for lag monitoring only; Redis holds the truth). */
    commitIntervalMs: z.number().int().max(MAX_TIMER_MS).positive().default(1000),
    /** How often the topology logs lag, events/s, batch sizes and dead-letter counts. */
    logIntervalMs: z.number().int().max(MAX_TIMER_MS).positive().default(10_000),
    /** A partition with records waiting that has not advanced for this long is reported as stalled. */
    stallAfterMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    /** Consumer group session timeout: how long a crashed consumer holds its partitions. */
    sessionTimeoutMs: z.number().int().max(MAX_TIMER_MS).positive().default(30_000),
    /**
     * A worker thread of `croupier start` (the topology, the archive, the embedded broker and schema registry)
     * that reports nothing for this long is stuck in a loop: it is terminated, the topology's and the archive's
     * restarted, and croupier exits 2 when the broker's or the registry's stops (its supervisor restarts it), ms.
     * Each thread reports every second; 0: no watchdog.
     */
    threadWatchdogMs: z.number().int().min(0).max(MAX_TIMER_MS).default(60_000),
    /** Partition batches processed at once (one Redis script each); more partitions wait their turn. */
    partitionsConcurrently: z.number().int().positive().default(16),
    /** Largest fetch per partition (bytes); with `maxBatchRecords` it bounds a batch's size. */
    maxBytesPerPartition: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Backoff while Redis is unavailable: first wait, doubled per failure up to the maximum. */
    retryInitialMs: z.number().int().max(MAX_TIMER_MS).positive().default(100),
    retryMaxMs: z.number().int().max(MAX_TIMER_MS).positive().default(5000),
  })
  .strict();

/** Demo traffic of `croupier start`: a simulated world playing sessions against the gateway, so carousels visibly learn. */
export const demoSchema = z
  .object({
    /**
     * `auto`: only when the broker is the embedded one (never into a production Kafka) and no PostgreSQL CDC source
     * is configured (the demo publishes a catalog of its own, which would mix with the database's); `on`; `off`.
     */
    traffic: z.enum(['auto', 'on', 'off']).default('auto'),
    /** Simulator scenario (a file name in simulator/scenarios without .json). */
    scenario: z.string().min(1).default('steady-state'),
    /** Carousel requests per second. */
    rate: z.number().positive().max(10_000).default(5),
    /** Concurrent simulated WebSocket clients. */
    clients: z.number().int().min(1).max(100).default(2),
    seed: z.number().int().default(1),
  })
  .strict();

export const logSchema = z
  .object({
    level: logLevel.default('info'),
    /** Human-readable output; defaults to true when stdout is a terminal. */
    pretty: z.boolean().optional(),
    /**
     * Share of carousels whose whole candidate set (ids, p̂, arm counts) the Carousel record carries, for shadow
     * tests of other policies and models (croupier shadow).
     */
    candidateSampleRate: z.number().min(0).max(1).default(0.1),
  })
  .strict();

const cdcColumns = z.record(z.string(), z.string().min(1));

/** The PostgreSQL CDC source (`croupier cdc`; `croupier start` runs it when `postgresUrl` is set). */
export const cdcSchema = z
  .object({
    /** `postgres://user:pass@host:5432/db` of a role with REPLICATION. Empty: no CDC source. */
    postgresUrl: z
      .union([z.literal(''), z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres:// URL')])
      .default(''),
    /** The items table (`table` or `schema.table`). */
    itemsTable: z.string().min(1).default('items'),
    /** The users table; empty: none. */
    usersTable: z.string().default(''),
    /** Logical replication slot (created with the initial snapshot when missing). */
    slot: z
      .string()
      .regex(/^[a-z0-9_]{1,40}$/, 'expected lower-case letters, digits and _ (at most 40)')
      .default('croupier'),
    /** Publication of the tables (created when missing). */
    publication: z.string().min(1).default('croupier'),
    /** Contract field → column, per contract (default: the column named like the field, e.g. item_id). */
    columns: z
      .object({ items: cdcColumns.default({}), users: cdcColumns.default({}) })
      .strict()
      .default({}),
    /** Records per Kafka send at most. */
    maxBatch: z.number().int().min(1).max(100_000).default(2000),
    /** How long a change waits for others to join its Kafka send (ms). */
    lingerMs: z.number().int().min(0).max(10_000).default(5),
    /** How often the slot's lag is read (ms). */
    lagCheckMs: z.number().int().max(MAX_TIMER_MS).min(100).default(10_000),
    /** Log a warning while the slot holds more WAL than this (bytes). */
    lagWarnBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 ** 3),
    /** `croupier cdc` serves /metrics on this port (0: a free one); absent: no metrics server. */
    metricsPort: port.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    kafka: kafkaSchema.default({}),
    broker: embeddedBrokerSchema.default({}),
    schemaRegistry: schemaRegistrySchema.default({}),
    redis: redisSchema.default({}),
    archive: archiveSchema.default({}),
    model: modelSchema.default({}),
    train: trainSchema.default({}),
    jobs: jobsSchema.default({}),
    gateway: gatewaySchema.default({}),
    stream: streamSchema.default({}),
    log: logSchema.default({}),
    demo: demoSchema.default({}),
    cdc: cdcSchema.default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Paths (dotted) whose values are secrets: `croupier config` prints them redacted. */
export const SECRET_PATHS = [
  'kafka.sasl.password',
  'schemaRegistry.password',
  'gateway.authSecret',
  'gateway.adminToken',
  'archive.hdfsDelegationToken',
  'cdc.postgresUrl',
] as const;

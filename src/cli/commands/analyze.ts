/** `croupier analyze`: the A/B analysis of an experiment's event file, as a table or as JSON. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { analyzeFile, formatReport, type Method, type Metric } from '../../analyze/index.ts';

function parseConfidence(value: string): number {
  const x = Number(value);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError('use a level in (0, 1), e.g. 0.95');
  return x;
}

function parseShares(value: string): number[] {
  const shares = value.split(',').map(Number);
  if (shares.length < 2 || shares.some((s) => !(s > 0))) {
    throw new InvalidArgumentError('use positive numbers separated by commas, e.g. 50,50 or 1,2,1');
  }
  return shares;
}

interface AnalyzeFlags {
  input: string[];
  metric: Metric;
  variantField: string;
  valueField?: string;
  method: Method;
  confidence: number;
  control?: string;
  expectedShares?: number[];
  json?: boolean;
}

/** JSON with non-finite numbers spelled out (JSON itself has no Infinity). */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === 'number' && !Number.isFinite(v)
        ? String(v)
        : v instanceof Float64Array
          ? Array.from(v)
          : v,
    2,
  );
}

export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'analyze an A/B experiment from an event file: per-variant estimates, sample ratio check, tests, lift, Bayesian P(best)',
    )
    .requiredOption(
      '-i, --input <files...>',
      'events as .jsonl, .csv (with a header row) or .avro (object container); several are read in order, ' +
        'so clickstream impressions can come before the clicks that answer them',
    )
    .addOption(
      new Option('-m, --metric <metric>', 'what to compare')
        .choices(['ctr', 'conversion', 'watch_time'])
        .makeOptionMandatory(),
    )
    .option('--variant-field <name>', 'field holding the variant', 'variant')
    .option(
      '--value-field <name>',
      'field holding the metric (default: clicked for ctr, converted for conversion, watch_time for watch_time)',
    )
    .addOption(
      new Option('--method <method>', 'frequentist tests, Bayesian posteriors, or both')
        .choices(['frequentist', 'bayesian', 'both'])
        .default('both'),
    )
    .option('--confidence <level>', 'confidence level of intervals and tests', parseConfidence, 0.95)
    .option(
      '--control <variant>',
      'the control variant (default: "control" if present, else the first by name)',
    )
    .option(
      '--expected-shares <shares>',
      'configured traffic split in variant-name order, e.g. 50,50',
      parseShares,
    )
    .option('--json', 'print the analysis as JSON')
    .action(async (flags: AnalyzeFlags) => {
      const { report, input } = await analyzeFile({
        path: flags.input,
        metric: flags.metric,
        variantField: flags.variantField,
        valueField: flags.valueField,
        method: flags.method,
        confidence: flags.confidence,
        control: flags.control,
        expectedShares: flags.expectedShares,
      });
      process.stdout.write(flags.json ? `${toJson({ input, ...report })}\n` : formatReport(report, input));
    });
}

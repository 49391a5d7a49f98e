/**
 * The proof world's setting (simulator/shadow/proof-world.ts, `PROOF_SETTING`) as command-line options, shared by
 * the benchmarks that measure a setting (bench/shadow-support.ts) and the estimators' accuracy in it
 * (bench/shadow.ts). Every option defaults to the proof's own value; a negative value goes after `=`
 * (`--base-logit=-1`).
 */
import { PROOF_SETTING, type ProofSetting } from '../simulator/shadow/proof-world.ts';

/** `parseArgs` options, one per field of the setting. */
export const PROOF_SETTING_OPTIONS = {
  carousels: { type: 'string', default: String(PROOF_SETTING.carousels) },
  items: { type: 'string', default: String(PROOF_SETTING.items) },
  'popularity-sd': { type: 'string', default: String(PROOF_SETTING.popularitySd) },
  'base-logit': { type: 'string', default: String(PROOF_SETTING.baseLogit) },
  'taste-weight': { type: 'string', default: String(PROOF_SETTING.tasteWeight) },
  'model-noise-sd': { type: 'string', default: String(PROOF_SETTING.modelNoiseSd) },
  'prior-strength': { type: 'string', default: String(PROOF_SETTING.priorStrength) },
  temperature: { type: 'string', default: String(PROOF_SETTING.temperature) },
  'position-bias': { type: 'string', default: String(PROOF_SETTING.positionBias) },
} as const;

type SettingValues = { [K in keyof typeof PROOF_SETTING_OPTIONS]: string };

function finite(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`--${name} must be a finite number, got "${text}"`);
  }
  return value;
}

/** The setting the options name (each checked to be a finite number, or true/false for --position-bias). */
export function proofSettingFrom(values: SettingValues): ProofSetting {
  const bias = values['position-bias'];
  if (bias !== 'true' && bias !== 'false') {
    throw new Error(`--position-bias must be true or false, got "${bias}"`);
  }
  return {
    items: finite('items', values.items),
    popularitySd: finite('popularity-sd', values['popularity-sd']),
    baseLogit: finite('base-logit', values['base-logit']),
    tasteWeight: finite('taste-weight', values['taste-weight']),
    modelNoiseSd: finite('model-noise-sd', values['model-noise-sd']),
    priorStrength: finite('prior-strength', values['prior-strength']),
    temperature: finite('temperature', values.temperature),
    positionBias: bias === 'true',
    carousels: finite('carousels', values.carousels),
  };
}

export type { EnvBinding } from './env.ts';
export { ENV_BINDINGS, type LoadConfigOptions, loadConfig, parseConfig } from './load.ts';
export { redactConfig } from './redact.ts';
export { type Config, type ConfigInput, configSchema, SECRET_PATHS } from './schema.ts';

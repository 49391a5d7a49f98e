export { ENV_BINDINGS } from './env.ts';
export { type LoadConfigOptions, loadConfig, parseConfig } from './load.ts';
export { redactConfig } from './redact.ts';
export { type Config, type ConfigInput, configSchema, SECRET_PATHS } from './schema.ts';

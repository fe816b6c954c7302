export { loadConfig, ConfigError } from './config.js';
export type { Config, RealtimeShape } from './config.js';
export { loadDotEnv } from './dotenv.js';

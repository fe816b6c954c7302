export * from './agent.js';
export * from './template.js';
export * from './call-variables.js';
export * from './registry.js';

// The embedded dialogue engine: rule and intent based, offline, no model. See README.md for the
// koe-script format agents use to script it.
export { EmbeddedDialogueEngine, type EmbeddedDialogueOptions } from './embedded-dialogue-engine.js';
export { extractScript, parseScript, type AgentScript } from './agent-script.js';
export { readAgentProfile, type AgentProfile, type EmergencyContact } from './agent-profile.js';

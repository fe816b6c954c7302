// The function tools an agent offers the model: Koe's built-in call controls and the agent's HTTP tools.
import type { AgentTool } from '../../agents/index.js';

export interface FunctionToolDefinition {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export const DTMF_DIGITS_PATTERN = '^[0-9A-D*#w]{1,32}$';

export function toolDefinition(tool: AgentTool): FunctionToolDefinition {
  switch (tool.type) {
    case 'hang_up':
      return {
        type: 'function',
        name: 'hang_up',
        description:
          'End the phone call. Say a short goodbye first, in the same turn; the line is closed after the caller has heard it.',
        parameters: {
          type: 'object',
          properties: { reason: { type: 'string', description: 'Why the call is ending, for the call log.' } },
          additionalProperties: false,
        },
      };
    case 'send_dtmf':
      return {
        type: 'function',
        name: 'send_dtmf',
        description:
          'Press keys on the phone keypad (DTMF tones), e.g. to choose an option in an automated phone menu. ' +
          'Never read the digits aloud instead. "w" waits half a second between keys.',
        parameters: {
          type: 'object',
          properties: { digits: { type: 'string', pattern: DTMF_DIGITS_PATTERN, description: 'Keys to press: 0-9, *, #, A-D, w = pause.' } },
          required: ['digits'],
          additionalProperties: false,
        },
      };
    case 'transfer': {
      const destinations = tool.destinations ? Object.keys(tool.destinations) : undefined;
      return {
        type: 'function',
        name: 'transfer',
        description:
          'Transfer the caller to a human. Tell the caller you are transferring them first; the transfer happens after they have heard you.',
        parameters: {
          type: 'object',
          properties: {
            ...(destinations ? { destination: { type: 'string', enum: destinations, description: 'Who to transfer to.' } } : {}),
            reason: { type: 'string', description: 'Why the caller is transferred, for the call log.' },
          },
          ...(destinations ? { required: ['destination'] } : {}),
          additionalProperties: false,
        },
      };
    }
    case 'http':
      return { type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters };
  }
}

export function toolDefinitions(tools: readonly AgentTool[]): FunctionToolDefinition[] {
  const seen = new Set<string>();
  const out: FunctionToolDefinition[] = [];
  for (const tool of tools) {
    const def = toolDefinition(tool);
    if (seen.has(def.name)) throw new Error(`the agent defines the tool "${def.name}" twice`);
    seen.add(def.name);
    out.push(def);
  }
  return out;
}

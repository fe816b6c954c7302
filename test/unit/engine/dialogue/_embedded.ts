// Shared helpers for the embedded dialogue engine's tests: the sample agents from agents.yaml rendered as
// the bridge renders them, their tool definitions, and a runner that collects one turn's events.
import { fileURLToPath } from 'node:url';
import { loadAgentsFile, renderTemplate, type Agent } from '../../../../src/agents/index.js';
import { toolDefinitions } from '../../../../src/call/tools/tool-definitions.js';
import type {
  DialogueEngine,
  DialogueEvent,
  DialogueMessage,
  DialogueRequest,
  DialogueTool,
  DialogueToolCall,
} from '../../../../src/engine/dialogue/dialogue.js';

const agentsPath = fileURLToPath(new URL('../../../../agents.yaml', import.meta.url));
const registry = loadAgentsFile(agentsPath);

const CALL_VARIABLES = {
  date: '2025-01-15',
  time: '14:03',
  weekday: 'Wednesday',
  timezone: 'America/New_York',
  callerNumber: '+15551230000',
  calledNumber: '+15005550006',
  callSid: 'CA00000000000000000000000000000000',
  direction: 'inbound',
};

export function sampleAgent(id: 'receptionist' | 'onayami'): { agent: Agent; instructions: string; tools: DialogueTool[] } {
  const agent = registry.get(id);
  if (agent === undefined) throw new Error(`agents.yaml has no agent "${id}"`);
  const instructions = renderTemplate(agent.instructions, { ...CALL_VARIABLES, ...agent.variables }, `${id} instructions`);
  const tools = toolDefinitions(agent.tools).map(({ name, description, parameters }) => ({ name, description, parameters }));
  return { agent, instructions, tools };
}

export const ENGLISH_COUNSELLING_INSTRUCTIONS = `You are Sam, a calm and caring listener for the Harbour Support Line, a free emotional support service.
Listen more than you speak, reflect the caller's feelings, and never lecture or give medical advice.
If a caller is in danger or mentions suicide, tell them to call 911 for emergencies,
or the Suicide and Crisis Lifeline at 988. Callers in the UK can reach the Samaritans on 116 123.`;

export interface TurnResult {
  text: string;
  deltas: string[];
  calls: DialogueToolCall[];
  events: DialogueEvent[];
}

export async function runTurn(engine: DialogueEngine, request: Partial<DialogueRequest> & Pick<DialogueRequest, 'instructions'>): Promise<TurnResult> {
  const full: DialogueRequest = {
    messages: [],
    tools: [],
    toolChoice: 'auto',
    signal: new AbortController().signal,
    ...request,
  };
  const events: DialogueEvent[] = [];
  for await (const event of engine.respond(full)) events.push(event);
  const deltas = events.flatMap((e) => (e.type === 'text.delta' ? [e.delta] : []));
  const calls = events.flatMap((e) => (e.type === 'function_call' ? [e.call] : []));
  return { text: deltas.join(''), deltas, calls, events };
}

/**
 * Plays a conversation turn by turn the way the engine server would: each caller line is appended, the
 * engine's reply (text and tool calls) goes back into the history, and tool results can be injected.
 */
export class Conversation {
  readonly messages: DialogueMessage[] = [];

  constructor(
    private readonly engine: DialogueEngine,
    private readonly base: Omit<Partial<DialogueRequest>, 'messages'> & Pick<DialogueRequest, 'instructions'>,
  ) {}

  async say(utterance: string): Promise<TurnResult> {
    this.messages.push({ role: 'user', content: utterance });
    return this.#reply();
  }

  async toolResult(callId: string, output: unknown): Promise<TurnResult> {
    this.messages.push({ role: 'tool', toolCallId: callId, content: JSON.stringify(output) });
    return this.#reply();
  }

  async #reply(): Promise<TurnResult> {
    const result = await runTurn(this.engine, { ...this.base, messages: [...this.messages] });
    this.messages.push({ role: 'assistant', content: result.text, ...(result.calls.length > 0 ? { toolCalls: result.calls } : {}) });
    return result;
  }
}

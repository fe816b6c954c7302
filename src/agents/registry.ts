// Agents loaded from agents.yaml / agents.json, validated with messages that point at the bad field.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { agentSchema, agentsFileSchema } from './agent.js';
import type { Agent, AgentInput } from './agent.js';

export class AgentConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid agents in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

/**
 * The agents calls are answered with, by id and by called number. Mutable: when agents are stored, edits
 * from the dashboard (or another Koe process) replace an agent here and the next call uses it; calls
 * already running keep the definition they started with.
 */
export class AgentRegistry {
  #byId = new Map<string, Agent>();
  #byNumber = new Map<string, Agent>();
  readonly #versions = new Map<string, number>();
  #defaultId: string;

  constructor(agents: readonly Agent[], defaultAgentId?: string) {
    if (agents.length === 0) throw new AgentConfigError('agents', ['at least one agent is needed']);
    this.#defaultId = defaultAgentId ?? (agents[0] as Agent).id;
    this.#install(agents);
  }

  get defaultAgent(): Agent {
    return this.#byId.get(this.#defaultId) as Agent;
  }

  get(id: string): Agent | undefined {
    return this.#byId.get(id);
  }

  /** The stored version an agent is at; null for agents that only live in a file. */
  versionOf(id: string): number | null {
    return this.#versions.get(id) ?? null;
  }

  /** The agent for a call to `calledNumber`, else the default agent. */
  forCalledNumber(calledNumber: string | undefined): Agent {
    return (calledNumber && this.#byNumber.get(calledNumber)) || this.defaultAgent;
  }

  list(): Agent[] {
    return [...this.#byId.values()];
  }

  /** Adds or replaces one agent; throws AgentConfigError (and changes nothing) if its numbers clash. */
  put(agent: Agent, version: number | null = null): void {
    this.#install([...[...this.#byId.values()].filter((a) => a.id !== agent.id), agent]);
    if (version === null) this.#versions.delete(agent.id);
    else this.#versions.set(agent.id, version);
  }

  /** Removes an agent; the default agent cannot be removed. */
  remove(id: string): boolean {
    if (id === this.#defaultId) throw new AgentConfigError('agents', [`"${id}" is the default agent and cannot be removed`]);
    if (!this.#byId.has(id)) return false;
    this.#install([...this.#byId.values()].filter((a) => a.id !== id));
    this.#versions.delete(id);
    return true;
  }

  /** Validates a full set and swaps it in atomically. */
  #install(agents: readonly Agent[]): void {
    const byId = new Map<string, Agent>();
    const byNumber = new Map<string, Agent>();
    const problems: string[] = [];
    for (const agent of agents) {
      if (byId.has(agent.id)) problems.push(`agent id "${agent.id}" is used twice`);
      byId.set(agent.id, agent);
      for (const number of agent.phoneNumbers) {
        const other = byNumber.get(number);
        if (other) problems.push(`${number} is routed to both "${other.id}" and "${agent.id}"`);
        byNumber.set(number, agent);
      }
    }
    if (!byId.has(this.#defaultId)) problems.push(`default agent "${this.#defaultId}" is not defined`);
    if (problems.length > 0) throw new AgentConfigError('agents', problems);
    this.#byId = byId;
    this.#byNumber = byNumber;
  }
}

export function parseAgents(input: unknown, source: string, defaultAgentId?: string): AgentRegistry {
  const result = agentsFileSchema.safeParse(input);
  if (!result.success) throw new AgentConfigError(source, formatIssues(result.error.issues));
  return new AgentRegistry(result.data.agents, defaultAgentId ?? result.data.defaultAgent);
}

export function loadAgentsFile(path: string, defaultAgentId?: string): AgentRegistry {
  return parseAgents(readAgentsData(path), path, defaultAgentId);
}

/**
 * The agents of an agents file as written (defaults not filled in), for storing them as they were
 * entered. Validated like loadAgentsFile: throws AgentConfigError naming the bad fields.
 */
export function readAgentsFile(path: string): { inputs: AgentInput[]; defaultAgent?: string } {
  const data = readAgentsData(path);
  const result = agentsFileSchema.safeParse(data);
  if (!result.success) throw new AgentConfigError(path, formatIssues(result.error.issues));
  const inputs = (data as { agents: AgentInput[] }).agents;
  return result.data.defaultAgent === undefined ? { inputs } : { inputs, defaultAgent: result.data.defaultAgent };
}

/** Why `input` is not a valid agent, one problem per bad field (`tools[1].url: …`); empty when it is valid. */
export function agentProblems(input: unknown): string[] {
  const result = agentSchema.safeParse(input);
  return result.success ? [] : formatIssues(result.error.issues);
}

function readAgentsData(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new AgentConfigError(path, [`not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
}

export function defineAgent(input: AgentInput): Agent {
  return parseAgents({ agents: [input] }, 'inline agent').defaultAgent;
}

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
      .join('');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

// Agents loaded from agents.yaml / agents.json, validated with messages that point at the bad field.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { agentsFileSchema } from './agent.js';
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

export class AgentRegistry {
  readonly #byId: Map<string, Agent>;
  readonly #byNumber = new Map<string, Agent>();
  readonly defaultAgent: Agent;

  constructor(agents: readonly Agent[], defaultAgentId?: string) {
    if (agents.length === 0) throw new AgentConfigError('agents', ['at least one agent is needed']);
    this.#byId = new Map();
    const problems: string[] = [];
    for (const agent of agents) {
      if (this.#byId.has(agent.id)) problems.push(`agent id "${agent.id}" is used twice`);
      this.#byId.set(agent.id, agent);
      for (const number of agent.phoneNumbers) {
        const other = this.#byNumber.get(number);
        if (other) problems.push(`${number} is routed to both "${other.id}" and "${agent.id}"`);
        this.#byNumber.set(number, agent);
      }
    }
    const fallback = defaultAgentId ? this.#byId.get(defaultAgentId) : agents[0];
    if (!fallback) problems.push(`default agent "${defaultAgentId}" is not defined`);
    if (problems.length > 0) throw new AgentConfigError('agents', problems);
    this.defaultAgent = fallback as Agent;
  }

  get(id: string): Agent | undefined {
    return this.#byId.get(id);
  }

  /** The agent for a call to `calledNumber`, else the default agent. */
  forCalledNumber(calledNumber: string | undefined): Agent {
    return (calledNumber && this.#byNumber.get(calledNumber)) || this.defaultAgent;
  }

  list(): Agent[] {
    return [...this.#byId.values()];
  }
}

export function parseAgents(input: unknown, source: string, defaultAgentId?: string): AgentRegistry {
  const result = agentsFileSchema.safeParse(input);
  if (!result.success) throw new AgentConfigError(source, formatIssues(result.error.issues));
  return new AgentRegistry(result.data.agents, defaultAgentId ?? result.data.defaultAgent);
}

export function loadAgentsFile(path: string, defaultAgentId?: string): AgentRegistry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    throw new AgentConfigError(path, [`not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseAgents(data, path, defaultAgentId);
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

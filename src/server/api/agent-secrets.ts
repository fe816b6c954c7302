// Agents' HTTP tools may carry credentials in their headers (`Authorization: Bearer …`). They are
// write-only through the API: responses show every header value as HIDDEN_HEADER_VALUE, and a save that
// sends that value back keeps the stored one, so the dashboard can edit an agent without ever seeing them.
import type { AgentInput } from '../../agents/index.js';
import type { AgentRecord } from '../../store/records.js';

/** Not a legal HTTP header value (non-Latin-1), so it can never be mistaken for a real one. */
export const HIDDEN_HEADER_VALUE = '••••••••';

type ToolInput = NonNullable<AgentInput['tools']>[number];
type HttpToolInput = Extract<ToolInput, { type: 'http' }>;

function isHttpTool(tool: ToolInput): tool is HttpToolInput {
  return typeof tool === 'object' && tool.type === 'http';
}

function withTools(definition: AgentInput, map: (tool: ToolInput, index: number) => ToolInput): AgentInput {
  return definition.tools ? { ...definition, tools: definition.tools.map(map) } : definition;
}

export function hideAgentSecrets(record: AgentRecord): AgentRecord {
  const definition = withTools(record.definition, (tool) =>
    isHttpTool(tool) && tool.headers
      ? { ...tool, headers: Object.fromEntries(Object.keys(tool.headers).map((name) => [name, HIDDEN_HEADER_VALUE])) }
      : tool,
  );
  return { ...record, definition };
}

/**
 * Puts the stored values back where a save sent HIDDEN_HEADER_VALUE (matched by tool name and header
 * name). A hidden value with nothing stored behind it is a problem: the real value must be given.
 */
export function restoreAgentSecrets(definition: AgentInput, stored: AgentInput | undefined): { definition: AgentInput; problems: string[] } {
  const problems: string[] = [];
  const storedTools = (stored?.tools ?? []).filter(isHttpTool);
  const restored = withTools(definition, (tool, index) => {
    if (!isHttpTool(tool) || !tool.headers) return tool;
    const before = storedTools.find((t) => t.name === tool.name)?.headers ?? {};
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(tool.headers)) {
      if (value !== HIDDEN_HEADER_VALUE) {
        headers[name] = value;
        continue;
      }
      const kept = before[name] ?? Object.entries(before).find(([other]) => other.toLowerCase() === name.toLowerCase())?.[1];
      if (kept === undefined) problems.push(`definition.tools[${index}].headers.${name}: give the header's value (no stored value to keep)`);
      else headers[name] = kept;
    }
    return { ...tool, headers };
  });
  return { definition: restored, problems };
}

// Agents: the stored definitions and their versions, edits through the catalog (which also updates the
// registry new calls use, here and on other processes), and a template preview for the editor.
import type { FastifyRequest } from 'fastify';
import type { AgentInput } from '../../agents/index.js';
import { AgentConfigError, callVariables, renderTemplate, TemplateError } from '../../agents/index.js';
import { AgentValidationError, AgentVersionConflict } from '../../store/agent-store.js';
import type { AgentRecord } from '../../store/records.js';
import { HIDDEN_HEADER_VALUE, hideAgentSecrets, restoreAgentSecrets } from './agent-secrets.js';
import { ApiFailure, notFound } from './api-errors.js';
import type { AgentEditor, DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import {
  agentDetailSchema,
  agentListSchema,
  agentRecordSchema,
  agentVersionParamsSchema,
  idParamsSchema,
  previewAgentRequestSchema,
  previewAgentResponseSchema,
  saveAgentRequestSchema,
} from './api-schemas.js';
import type { AgentDetailResponse, AgentList, PreviewAgentResponse } from './api-types.js';
import { exampleCallFacts } from './example-call.js';

const TAG = 'agents';
const HIDDEN_NOTE = `HTTP tool header values are write-only: they read as "${HIDDEN_HEADER_VALUE}", and sending that back keeps the stored value.`;

/**
 * `dashboard` for the dashboard's own requests (browsers mark same-origin fetches), `api` for scripts.
 * Only a label in the version history; both need the same session.
 */
function editSource(request: FastifyRequest): AgentRecord['source'] {
  return request.headers['sec-fetch-site'] === 'same-origin' ? 'dashboard' : 'api';
}

/**
 * The definition as sent, to store as entered (defaults not filled in; the body schema validated it), with
 * hidden header values replaced by the stored ones.
 */
function enteredDefinition(request: FastifyRequest, stored: AgentRecord | undefined): AgentInput {
  const { definition, problems } = restoreAgentSecrets((request.body as { definition: AgentInput }).definition, stored?.definition);
  if (problems.length > 0) throw new ApiFailure(400, 'validation_failed', 'the agent definition is not valid', problems);
  return definition;
}

/** The catalog's refusals as API errors. */
function editFailure(err: unknown): unknown {
  if (err instanceof AgentConfigError) return new ApiFailure(409, 'agent_conflict', 'the change conflicts with the other agents', err.problems);
  if (err instanceof AgentVersionConflict) {
    if (err.expectedVersion === 0) {
      return new ApiFailure(409, 'agent_exists', `an agent "${err.agentId}" exists already; edit it with PUT /api/agents/${err.agentId}`);
    }
    return new ApiFailure(409, 'version_conflict', `${err.message}; reload it and edit again`);
  }
  if (err instanceof AgentValidationError) return new ApiFailure(400, 'validation_failed', 'the agent definition is not valid', err.problems);
  return err;
}

export function agentRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const stored = deps.store.agents;
  const editor = (): AgentEditor => {
    if (!deps.catalog) throw new ApiFailure(503, 'agents_read_only', 'agent editing is not enabled on this server');
    return deps.catalog;
  };
  const edit = async (work: (catalog: AgentEditor) => Promise<AgentRecord>): Promise<AgentRecord> => {
    try {
      return hideAgentSecrets(await work(editor()));
    } catch (err) {
      throw editFailure(err);
    }
  };

  return [
    httpRoute({
      method: 'GET',
      path: '/api/agents',
      tag: TAG,
      summary: 'Every agent at its current version',
      description: HIDDEN_NOTE,
      responses: { 200: { description: 'The agents and which one answers numbers no agent claims.', schema: agentListSchema } },
      handler: async (): Promise<AgentList> => ({ agents: (await stored.list()).map(hideAgentSecrets), defaultAgentId: deps.agents.defaultAgent.id }),
    }),
    httpRoute({
      method: 'POST',
      path: '/api/agents/preview',
      tag: TAG,
      summary: 'Fill an agent’s templates with built-in and sample values',
      description: 'Nothing is stored. Templates that need a variable without a value come back null, the variable in `missing`.',
      body: previewAgentRequestSchema,
      responses: { 200: { description: 'The filled templates.', schema: previewAgentResponseSchema } },
      handler: async ({ body }): Promise<PreviewAgentResponse> => {
        const agent = body.definition;
        const variables = callVariables(agent, exampleCallFacts(agent), body.variables);
        const missing = new Set<string>();
        const fill = (template: string | undefined, what: string): string | null => {
          if (template === undefined) return null;
          try {
            return renderTemplate(template, variables, what);
          } catch (err) {
            if (!(err instanceof TemplateError)) throw err;
            for (const name of err.missing) missing.add(name);
            return null;
          }
        };
        return {
          instructions: fill(agent.instructions, 'instructions'),
          greeting: fill(agent.greeting, 'greeting'),
          missing: [...missing],
          variables,
        };
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/agents/:id',
      tag: TAG,
      summary: 'One agent and its version history',
      description: HIDDEN_NOTE,
      params: idParamsSchema,
      responses: { 200: { description: 'The agent.', schema: agentDetailSchema }, 404: { description: 'No such agent.' } },
      handler: async ({ params }): Promise<AgentDetailResponse> => {
        const agent = await stored.get(params.id);
        if (!agent) throw notFound('agent');
        return { agent: hideAgentSecrets(agent), versions: await stored.versions(params.id) };
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/agents/:id/versions/:version',
      tag: TAG,
      summary: 'One stored version of an agent',
      params: agentVersionParamsSchema,
      responses: { 200: { description: 'That version.', schema: agentRecordSchema }, 404: { description: 'No such agent or version.' } },
      handler: async ({ params }): Promise<AgentRecord> => {
        const version = await stored.getVersion(params.id, params.version);
        if (!version) throw notFound('agent version');
        return hideAgentSecrets(version);
      },
    }),
    httpRoute({
      method: 'POST',
      path: '/api/agents',
      tag: TAG,
      summary: 'Create an agent',
      description: '`expectedVersion` is ignored: creating always requires that no agent has the id (a deleted one may be re-created).',
      body: saveAgentRequestSchema,
      responses: {
        201: { description: 'Created at version 1.', schema: agentRecordSchema },
        409: { description: 'The id is taken, or a phone number is already routed to another agent.' },
        503: { description: 'Agent editing is not enabled.' },
      },
      handler: async ({ request, reply }) => {
        // Expected version 0: "must not exist yet", checked in the save's transaction, so two creates cannot both win.
        const created = await edit((catalog) => catalog.save(enteredDefinition(request, undefined), editSource(request), 0));
        return reply.code(201).send(created);
      },
    }),
    httpRoute({
      method: 'PUT',
      path: '/api/agents/:id',
      tag: TAG,
      summary: 'Save a new version of an agent',
      description: `With \`expectedVersion\`, the save fails with 409 when someone saved a newer version meanwhile. ${HIDDEN_NOTE}`,
      params: idParamsSchema,
      body: saveAgentRequestSchema,
      responses: {
        200: { description: 'The new version.', schema: agentRecordSchema },
        404: { description: 'No such agent.' },
        409: { description: 'A newer version exists (stale expectedVersion), or a phone number is routed to another agent.' },
        503: { description: 'Agent editing is not enabled.' },
      },
      handler: async ({ params, body, request }): Promise<AgentRecord> => {
        if (body.definition.id !== params.id) {
          throw new ApiFailure(400, 'validation_failed', 'the definition is for another agent', [
            `definition.id: must be "${params.id}", the agent in the URL (agents cannot be renamed)`,
          ]);
        }
        const current = await stored.get(params.id);
        if (!current) throw notFound('agent');
        return edit((catalog) => catalog.save(enteredDefinition(request, current), editSource(request), body.expectedVersion));
      },
    }),
    httpRoute({
      method: 'DELETE',
      path: '/api/agents/:id',
      tag: TAG,
      summary: 'Delete an agent',
      description: 'Calls already running keep it; its stored versions and calls stay. The default agent cannot be deleted.',
      params: idParamsSchema,
      bodyOptional: true,
      responses: {
        204: { description: 'Deleted.' },
        404: { description: 'No such agent.' },
        409: { description: 'It is the default agent.' },
        503: { description: 'Agent editing is not enabled.' },
      },
      handler: async ({ params, reply }) => {
        let removed: boolean;
        try {
          removed = await editor().remove(params.id);
        } catch (err) {
          throw editFailure(err);
        }
        if (!removed) throw notFound('agent');
        return reply.code(204).send();
      },
    }),
  ];
}

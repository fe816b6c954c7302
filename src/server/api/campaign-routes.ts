// Outbound campaigns: create from a CSV (contacts checked and normalised, refused rows reported with their
// line numbers), start / pause / resume / cancel, progress, contacts with their calls, and a CSV export.
import { agentTemplates, callVariables, renderTemplate, TemplateError } from '../../agents/index.js';
import type { Agent } from '../../agents/index.js';
import { ContactImportError } from '../../campaigns/contact-import.js';
import { parseContactsCsvOffThread } from '../../campaigns/contact-import-off-thread.js';
import type { OutboundDialer } from '../../campaigns/outbound-dialer.js';
import { CampaignStateError, type CampaignAction, type ExportedContact } from '../../store/campaign-store.js';
import type { CampaignSettings, ImportReport } from '../../store/records.js';
import { ApiFailure, notFound } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import {
  campaignListSchema,
  campaignRecordSchema,
  contactListQuerySchema,
  contactListSchema,
  createCampaignRequestSchema,
  idParamsSchema,
} from './api-schemas.js';
import type { CampaignList, CampaignResponse, ContactList } from './api-types.js';

const TAG = 'campaigns';
/** A 100,000-contact CSV with a few columns is ~6 MB; JSON escaping adds a little. */
export const CAMPAIGN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const DEFAULT_WINDOW = { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6, 7] };
const DEFAULT_RETRY: CampaignSettings['retry'] = { maxAttempts: 3, delayMs: 10 * 60_000, on: ['busy', 'no-answer'] };
const EXPORT_COLUMNS = ['line', 'phone', 'state', 'outcome', 'attempts', 'last_call_id', 'last_twilio_status', 'answered_by', 'last_error'];
const PROBLEMS_SHOWN = 50;

export function campaignRoutes(deps: DashboardApiDeps & { dialer: OutboundDialer }): ApiRoute[] {
  const { campaigns } = deps.store;
  const { dialer, config, log } = deps;

  const requireDialer = (): void => {
    const missing = dialer.missingSettings();
    if (missing.length > 0) throw new ApiFailure(503, 'twilio_not_configured', `outbound calls need ${missing.join(' and ')}`, missing);
  };

  const action = (name: CampaignAction, summary: string): ApiRoute =>
    httpRoute({
      method: 'POST',
      path: `/api/campaigns/:id/${name}`,
      tag: TAG,
      summary,
      params: idParamsSchema,
      bodyOptional: true,
      responses: {
        200: { description: 'The campaign after the change.', schema: campaignRecordSchema },
        404: { description: 'No such campaign.' },
        409: { description: 'The campaign’s status does not allow this.' },
      },
      handler: async ({ params }): Promise<CampaignResponse> => {
        if (name === 'start' || name === 'resume') requireDialer();
        if (!(await campaigns.get(params.id))) throw notFound('campaign');
        try {
          const record = await campaigns.act(params.id, name);
          log.info({ campaignId: params.id, action: name, status: record.status }, 'campaign status changed');
          return record;
        } catch (err) {
          if (err instanceof CampaignStateError) throw new ApiFailure(409, 'invalid_state', err.message);
          throw err;
        }
      },
    });

  return [
    httpRoute({
      method: 'GET',
      path: '/api/campaigns',
      tag: TAG,
      summary: 'List campaigns with their progress, newest first',
      responses: { 200: { description: 'The campaigns.', schema: campaignListSchema } },
      handler: async (): Promise<CampaignList> => ({ campaigns: await campaigns.list() }),
    }),
    httpRoute({
      method: 'POST',
      path: '/api/campaigns',
      tag: TAG,
      summary: 'Create a campaign from a CSV of contacts',
      description:
        'Each row is a contact: the phone column (normalised to E.164; national numbers need `defaultCountry`), an optional ' +
        'timezone column, and any other columns as template variables. Rows that cannot be called (invalid or duplicate ' +
        'numbers, unknown time zones, wrong cell counts) are refused and listed in `importReport` with their line numbers; ' +
        'the others are imported. The campaign starts as a draft unless `start` is true.',
      body: createCampaignRequestSchema,
      bodyLimit: CAMPAIGN_BODY_LIMIT_BYTES,
      responses: {
        201: { description: 'The campaign, with its import report.', schema: campaignRecordSchema },
        400: { description: 'The CSV or a setting is not usable (`problems` lists why); no campaign was made.' },
        404: { description: 'No such agent.' },
      },
      handler: async ({ body, reply }) => {
        const agent = deps.agents.get(body.agentId);
        if (!agent) throw new ApiFailure(404, 'not_found', `no agent "${body.agentId}"`);
        const from = body.from ?? dialer.defaultFrom(agent);
        if (!from) {
          throw new ApiFailure(400, 'missing_caller_id', 'no caller ID: pass `from`, give the agent a phone number, or set TWILIO_CALLER_ID');
        }
        const window = { ...DEFAULT_WINDOW, ...body.window };
        if (window.start === window.end) throw new ApiFailure(400, 'validation_failed', 'the calling window is empty', ['window: start and end are the same time']);
        if (body.start) requireDialer();

        const startedMs = performance.now();
        let parsed: Awaited<ReturnType<typeof parseContactsCsvOffThread>>;
        try {
          parsed = await parseContactsCsvOffThread(body.csv, {
            ...(body.phoneColumn ? { phoneColumn: body.phoneColumn } : {}),
            ...((body.defaultCountry ?? config.outbound.defaultCountry) ? { defaultCountry: body.defaultCountry ?? config.outbound.defaultCountry } : {}),
          });
        } catch (err) {
          if (err instanceof ContactImportError) throw new ApiFailure(400, 'invalid_csv', err.message, err.problems);
          throw err;
        }
        const { contacts, report } = parsed;
        if (contacts.length === 0) {
          throw new ApiFailure(400, 'no_valid_contacts', `none of the ${report.rows} rows can be called`, rejectionLines(report));
        }
        checkTemplates(agent, report.variables);

        const settings: CampaignSettings = {
          name: body.name,
          agentId: agent.id,
          from,
          callsPerSecond: body.callsPerSecond ?? 1,
          maxConcurrent: body.maxConcurrent ?? 10,
          window: { start: window.start, end: window.end, days: [...new Set(window.days)].sort() },
          timezone: body.timezone ?? agent.timezone,
          retry: { ...DEFAULT_RETRY, ...body.retry },
          machineDetection: body.machineDetection ?? agent.answeringMachine.detect,
          ringTimeoutSec: body.ringTimeoutSec ?? 30,
        };
        let record = await campaigns.create(settings, contacts, report);
        if (body.start) record = await campaigns.act(record.id, 'start');
        log.info(
          { campaignId: record.id, agentId: agent.id, imported: report.imported, rejected: report.rejected, importMs: Math.round(performance.now() - startedMs) },
          'campaign created',
        );
        return reply.code(201).send(record);
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/campaigns/:id',
      tag: TAG,
      summary: 'One campaign with its progress and import report',
      params: idParamsSchema,
      responses: { 200: { description: 'The campaign.', schema: campaignRecordSchema }, 404: { description: 'No such campaign.' } },
      handler: async ({ params }): Promise<CampaignResponse> => {
        const record = await campaigns.get(params.id);
        if (!record) throw notFound('campaign');
        return record;
      },
    }),
    action('start', 'Start dialing a draft campaign'),
    action('pause', 'Pause a running campaign (calls in progress finish)'),
    action('resume', 'Resume a paused campaign'),
    action('cancel', 'Cancel a campaign: nobody else is called (calls in progress finish)'),
    httpRoute({
      method: 'GET',
      path: '/api/campaigns/:id/contacts',
      tag: TAG,
      summary: 'A campaign’s contacts with every call placed to them',
      params: idParamsSchema,
      query: contactListQuerySchema,
      responses: { 200: { description: 'One page of contacts, in file order.', schema: contactListSchema }, 404: { description: 'No such campaign.' } },
      handler: async ({ params, query }): Promise<ContactList> => {
        if (!(await campaigns.get(params.id))) throw notFound('campaign');
        return campaigns.contacts(params.id, query);
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/campaigns/:id/export.csv',
      tag: TAG,
      summary: 'Every contact with its state, outcome and last call, as CSV',
      params: idParamsSchema,
      responses: { 200: { description: 'The contacts, one row each, then their variables.', contentType: 'text/csv' }, 404: { description: 'No such campaign.' } },
      handler: async ({ params, reply }) => {
        const record = await campaigns.get(params.id);
        if (!record) throw notFound('campaign');
        const variables = record.importReport.variables;
        const lines: string[] = [[...EXPORT_COLUMNS, ...variables].map(csvCell).join(',')];
        await campaigns.exportContacts(params.id, (rows) => {
          for (const row of rows) lines.push(exportLine(row, variables));
        });
        const fileName = `campaign-${record.name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60) || record.id}.csv`;
        return reply
          .header('content-disposition', `attachment; filename="${fileName}"`)
          .header('cache-control', 'private, no-cache')
          .type('text/csv; charset=utf-8')
          .send(`${lines.join('\r\n')}\r\n`);
      },
    }),
  ];
}

/** Every variable the agent's templates use must come from the agent, the call, or a CSV column. */
function checkTemplates(agent: Agent, columns: readonly string[]): void {
  const sample = Object.fromEntries(columns.map((name) => [name, 'x']));
  const variables = callVariables(agent, { callSid: 'CA-sample', direction: 'outbound', callerNumber: '+15550000000', calledNumber: '+15550000001' }, sample);
  const problems: string[] = [];
  for (const [name, template] of agentTemplates(agent)) {
    try {
      renderTemplate(template, variables, name);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      for (const missing of err.missing) problems.push(`agent "${agent.id}" ${name} uses {{${missing}}}, which no CSV column provides`);
    }
  }
  if (problems.length > 0) throw new ApiFailure(400, 'missing_variables', 'the CSV lacks columns the agent’s templates need', problems);
}

function rejectionLines(report: ImportReport): string[] {
  const lines = report.rejections.slice(0, PROBLEMS_SHOWN).map((r) => `line ${r.line}: ${r.value} — ${r.reason}`);
  if (report.rejected > PROBLEMS_SHOWN) lines.push(`… and ${report.rejected - PROBLEMS_SHOWN} more`);
  return lines;
}

function exportLine(row: ExportedContact, variables: readonly string[]): string {
  const cells: Array<string | number | null> = [
    row.line,
    row.phone,
    row.state,
    row.outcome,
    row.attempts,
    row.lastCallId,
    row.lastTwilioStatus,
    row.answeredBy,
    row.lastError,
    ...variables.map((name) => row.variables[name] ?? ''),
  ];
  return cells.map(csvCell).join(',');
}

/** RFC 4180 quoting; cells a spreadsheet would run as a formula get a leading apostrophe. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text) && !/^\+\d+$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

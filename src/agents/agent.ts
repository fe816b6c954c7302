// What an agent (a persona answering calls) is, as configured by users.
import { z } from 'zod';
import { parseTemplate } from './template.js';

const templateString = z.string().superRefine((value, ctx) => {
  try {
    parseTemplate(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number like +15551234567');

export const turnDetectionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('server_vad'),
      threshold: z.number().min(0).max(1).default(0.5),
      prefixPaddingMs: z.number().int().min(0).max(5_000).default(300),
      silenceDurationMs: z.number().int().min(0).max(10_000).default(500),
      idleTimeoutMs: z.number().int().min(5_000).max(30_000).nullable().default(null),
      createResponse: z.boolean().default(true),
      interruptResponse: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      type: z.literal('semantic_vad'),
      eagerness: z.enum(['low', 'medium', 'high', 'auto']).default('auto'),
      createResponse: z.boolean().default(true),
      interruptResponse: z.boolean().default(true),
    })
    .strict(),
  z.object({ type: z.literal('manual') }).strict(),
]);

const jsonSchemaObject = z.record(z.string(), z.unknown());

const httpToolSchema = z
  .object({
    type: z.literal('http'),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
    description: z.string().min(1),
    parameters: jsonSchemaObject.default({ type: 'object', properties: {} }),
    url: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL'),
    headers: z.record(z.string(), z.string()).default({}),
    timeoutMs: z.number().int().min(100).max(120_000).optional(),
  })
  .strict();

const transferToolSchema = z
  .object({
    type: z.literal('transfer'),
    /** Where the caller is transferred: a number, or several named destinations the model picks from. */
    number: e164.optional(),
    destinations: z.record(z.string().regex(/^[a-z0-9_-]+$/i), e164).optional(),
    callerId: e164.optional(),
    announce: z.string().optional(),
    timeoutSec: z.number().int().min(5).max(600).default(30),
  })
  .strict()
  .refine((t) => Boolean(t.number) !== Boolean(t.destinations), 'give either number or destinations');

const builtinToolSchema = z.union([
  z.literal('hang_up').transform(() => ({ type: 'hang_up' as const })),
  z.literal('send_dtmf').transform(() => ({ type: 'send_dtmf' as const })),
  z.object({ type: z.literal('hang_up') }).strict(),
  z.object({ type: z.literal('send_dtmf') }).strict(),
]);

export const agentToolSchema = z.union([builtinToolSchema, transferToolSchema, httpToolSchema]);

export const agentSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'ids are lowercase letters, digits, _ or - (max 64)')
      // The dashboard's page for creating an agent lives at /agents/new.
      .refine((id) => id !== 'new', '"new" is reserved; choose another id'),
    name: z.string().min(1),
    language: z.string().default('en-US'),
    voice: z.string().default('alloy'),
    timezone: z.string().default('UTC'),
    instructions: templateString,
    greeting: templateString.optional(),
    /** Whether caller speech may cut the greeting. Off by default: the first words are never cut. */
    greetingInterruptible: z.boolean().default(false),
    variables: z.record(z.string(), z.string()).default({}),
    phoneNumbers: z.array(e164).default([]),
    turnDetection: turnDetectionSchema.default({
      type: 'server_vad',
      threshold: 0.5,
      prefixPaddingMs: 300,
      silenceDurationMs: 500,
      idleTimeoutMs: null,
      createResponse: true,
      interruptResponse: true,
    }),
    transcription: z
      .object({ model: z.string().optional(), language: z.string().optional(), prompt: z.string().optional() })
      .strict()
      .nullable()
      .default({}),
    tools: z.array(agentToolSchema).default([]),
    /** Collect DTMF key presses for this long before telling the model, so "1234#" arrives as one item. */
    dtmfDebounceMs: z.number().int().min(0).max(10_000).default(1_200),
    /**
     * Outbound calls: Twilio's asynchronous answering-machine detection. On a machine verdict the agent
     * hangs up, or (leave_message) waits for the end of the greeting (the beep) and says `message`.
     */
    answeringMachine: z
      .object({
        detect: z.boolean().default(false),
        action: z.enum(['hang_up', 'leave_message']).default('hang_up'),
        message: templateString.optional(),
      })
      .strict()
      .refine((a) => a.action !== 'leave_message' || (a.message !== undefined && a.message.trim() !== ''), {
        message: 'leave_message needs a message',
        path: ['message'],
      })
      .default({ detect: false, action: 'hang_up' }),
  })
  .strict();

export type Agent = z.output<typeof agentSchema>;
export type AgentInput = z.input<typeof agentSchema>;
export type AgentTool = z.output<typeof agentToolSchema>;
export type HttpToolConfig = z.output<typeof httpToolSchema>;
export type TransferToolConfig = z.output<typeof transferToolSchema>;
export type TurnDetectionConfig = z.output<typeof turnDetectionSchema>;

export const agentsFileSchema = z
  .object({
    defaultAgent: z.string().optional(),
    agents: z.array(agentSchema).min(1, 'at least one agent is needed'),
  })
  .strict();

/**
 * Every template a call of this agent fills, by name: instructions, greeting, and the voicemail message when
 * the agent leaves one. A call is refused when any of them lacks a variable.
 */
export function agentTemplates(agent: Agent): Array<[name: string, template: string]> {
  const templates: Array<[string, string]> = [['instructions', agent.instructions]];
  if (agent.greeting !== undefined) templates.push(['greeting', agent.greeting]);
  if (agent.answeringMachine.action === 'leave_message' && agent.answeringMachine.message !== undefined) {
    templates.push(['answeringMachine.message', agent.answeringMachine.message]);
  }
  return templates;
}

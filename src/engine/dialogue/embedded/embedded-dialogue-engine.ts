// The embedded dialogue engine: Koe's default dialogue step when no language model is configured. It
// reads the agent's instructions (and the koe-script inside them, if any), recognises what the caller
// meant with nlp.js plus a keyword layer, and answers from scripted or built-in lines, calling the
// session's tools where the dialogue calls for it. Plans are trained once per distinct instructions
// text and tool set and kept in a small LRU, so a turn costs about a millisecond.
import {
  type DialogueEngine,
  DialogueError,
  type DialogueEvent,
  type DialogueRequest,
  estimateTokens,
  verbatimLine,
} from '../dialogue.js';
import { replayConversation } from './conversation-replay.js';
import { type DialoguePlan, buildPlan, planKey } from './dialogue-plan.js';
import { IntentClassifier } from './intent-classifier.js';
import { splitSentences } from './sentences.js';
import { applyToolChoice, checkToolChoice, fitArgumentsToTool, newCallId } from './tool-choice.js';
import { type Decision, TurnPolicy } from './turn-policy.js';

export interface EmbeddedDialogueOptions {
  /** Distinct agents (instructions + tools) kept trained. Default 8. */
  cacheEntries?: number;
}

interface TrainedAgent {
  plan: DialoguePlan;
  policy: TurnPolicy;
}

export class EmbeddedDialogueEngine implements DialogueEngine {
  readonly name = 'embedded';
  readonly #cacheEntries: number;
  /** Promises, so concurrent first turns of one agent train once; a bad script stays cached as its error. */
  readonly #agents = new Map<string, Promise<TrainedAgent>>();
  #closed = false;

  constructor(options: EmbeddedDialogueOptions = {}) {
    this.#cacheEntries = options.cacheEntries ?? 8;
    if (!Number.isInteger(this.#cacheEntries) || this.#cacheEntries < 1) {
      throw new RangeError(`cacheEntries must be a positive integer, got ${options.cacheEntries}`);
    }
  }

  respond(request: DialogueRequest): AsyncIterable<DialogueEvent> {
    return this.#respond(request);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#agents.clear();
  }

  async *#respond(request: DialogueRequest): AsyncGenerator<DialogueEvent> {
    if (this.#closed) throw new DialogueError('the embedded dialogue engine is closed', 'unavailable', false);
    const { signal } = request;
    if (signal.aborted) return;
    const inputTokens = estimateTokens(
      [request.instructions, ...request.messages.map((m) => m.content), request.tools.length > 0 ? JSON.stringify(request.tools) : ''].join('\n'),
    );

    const verbatim = verbatimLine(request.metadata);
    if (verbatim !== undefined) {
      const text = this.#budget(verbatim, request.maxOutputTokens).text;
      for (const sentence of splitSentences(text)) {
        if (signal.aborted) return;
        yield { type: 'text.delta', delta: sentence };
      }
      if (signal.aborted) return;
      yield { type: 'done', usage: { inputTokens, outputTokens: estimateTokens(text) } };
      return;
    }

    checkToolChoice(request.toolChoice, request.tools);
    const agent = await this.#agent(request);
    if (signal.aborted) return;
    let decision: Decision;
    try {
      decision = await this.#decide(agent, request);
    } catch (err) {
      if (err instanceof DialogueError) throw err;
      throw new DialogueError(`the embedded dialogue engine failed: ${(err as Error).message}`, 'internal', false, { cause: err });
    }
    if (signal.aborted) return;

    const { text, truncated } = this.#budget(decision.text, request.maxOutputTokens);
    let outputTokens = estimateTokens(text);
    for (const sentence of splitSentences(text)) {
      if (signal.aborted) return;
      yield { type: 'text.delta', delta: sentence };
    }
    // A reply cut by max_output_tokens ends there, as a model's would: no function call after it.
    if (!truncated) {
      for (const call of decision.calls) {
        if (signal.aborted) return;
        const args = JSON.stringify(fitArgumentsToTool(call.arguments, request.tools.find((t) => t.name === call.name)));
        outputTokens += estimateTokens(call.name) + estimateTokens(args);
        yield { type: 'function_call', call: { callId: newCallId(), name: call.name, arguments: args } };
      }
    }
    if (signal.aborted) return;
    yield { type: 'done', usage: { inputTokens, outputTokens } };
  }

  async #decide(agent: TrainedAgent, request: DialogueRequest): Promise<Decision> {
    const { state, tail } = await replayConversation(agent.policy, request.messages);
    let decision: Decision;
    let utterance = '';
    switch (tail.kind) {
      case 'user':
        utterance = tail.utterance;
        decision = await agent.policy.onUserTurn(state, tail.utterance);
        break;
      case 'tools':
        decision = agent.policy.onToolResults(state, tail.results);
        break;
      case 'none':
        decision = agent.policy.onNoInput(state);
        break;
    }
    return applyToolChoice(decision, request.toolChoice, request.tools, utterance, agent.plan.language);
  }

  #agent(request: DialogueRequest): Promise<TrainedAgent> {
    const key = planKey(request);
    const cached = this.#agents.get(key);
    if (cached !== undefined) {
      this.#agents.delete(key);
      this.#agents.set(key, cached);
      return cached;
    }
    const trained = (async (): Promise<TrainedAgent> => {
      const plan = buildPlan(request);
      try {
        const classifier = await IntentClassifier.train(plan);
        return { plan, policy: new TurnPolicy(plan, classifier) };
      } catch (err) {
        throw new DialogueError(`the embedded dialogue engine could not train: ${(err as Error).message}`, 'internal', false, { cause: err });
      }
    })();
    // Callers that never await this (an aborted turn) must not leave an unhandled rejection behind.
    trained.catch(() => undefined);
    this.#agents.set(key, trained);
    while (this.#agents.size > this.#cacheEntries) this.#agents.delete(this.#agents.keys().next().value as string);
    return trained;
  }

  #budget(text: string, maxOutputTokens: number | undefined): { text: string; truncated: boolean } {
    if (maxOutputTokens === undefined || estimateTokens(text) <= maxOutputTokens) return { text, truncated: false };
    const sentences = splitSentences(text);
    let kept = '';
    for (const sentence of sentences) {
      if (estimateTokens(kept + sentence) > maxOutputTokens) break;
      kept += sentence;
    }
    if (kept === '') kept = [...text].slice(0, Math.max(0, maxOutputTokens * 4)).join('');
    return { text: kept, truncated: true };
  }
}

// Worker thread owning one pocketsphinx decoder. Started by PocketsphinxRecognizer through WorkerPool.
import { serveWorker } from '../worker-pool.js';
import type { CompiledGrammar } from './grammar.js';
import { PocketsphinxDecoder, type DecodeResult } from './pocketsphinx-decoder.js';
import type { PocketsphinxModel } from './pocketsphinx-model.js';

export interface DecodeRequest {
  /** 16 kHz mono PCM16, moved (not copied) into the worker. */
  pcm: ArrayBuffer;
  grammar?: CompiledGrammar;
}

serveWorker<DecodeRequest, DecodeResult, PocketsphinxModel>((model) => {
  const decoder = new PocketsphinxDecoder(model);
  return {
    handle: (request) => ({ result: decoder.decode(new Int16Array(request.pcm), request.grammar) }),
    dispose: () => decoder.free(),
  };
});

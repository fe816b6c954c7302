// Writes a tiny llama-architecture GGUF so tests exercise node-llama-cpp's real loading and generation
// path without downloading anything (GGUF layout: ggml-org/ggml docs/gguf.md; tensor names: llama.cpp's
// LLM_ARCH_LLAMA). The weights are random, except that the model is wired to be predictable:
// attention and feed-forward outputs are near zero, so each position's hidden state is its own token's
// embedding, and the output matrix maps that embedding to a chosen next token. Greedy decoding then walks
// a fixed chain of tokens after any prompt, which lets a test know what a "random" model will say.
import { writeFileSync } from 'node:fs';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const GGUF_VERSION = 3;
const ALIGNMENT = 32;

const ValueType = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

const GGML_TYPE_F32 = 0;

// llama.cpp token attributes (tokenizer.ggml.token_type).
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

/** The ChatML template; node-llama-cpp recognises it and uses its ChatML wrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface TinyGgufOptions {
  /**
   * The pieces the model says, in order, as SentencePiece tokens (`▁` = a leading space). Each piece
   * must be distinct. After the last piece the model says `then`.
   */
  says: string[];
  /** `loop`: start again at the second piece (so generation never ends); `eos`: end the turn. */
  then: 'loop' | 'eos';
  /** Extra vocabulary that the prompt may use. */
  extraPieces?: string[];
  seed?: number;
}

export interface TinyGguf {
  /** File size in bytes. */
  bytes: number;
  vocabSize: number;
}

const EMBEDDING = 32;
const HEADS = 4;
const HEADS_KV = 2;
const HEAD_DIM = EMBEDDING / HEADS;
const FEED_FORWARD = 64;
const CONTEXT = 2048;

export function writeTinyGguf(path: string, options: TinyGgufOptions): TinyGguf {
  const pieces: string[] = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types: number[] = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL, TOKEN_CONTROL, TOKEN_CONTROL];
  // Byte fallback: SentencePiece spells anything outside the vocabulary as <0xXX> tokens.
  for (let byte = 0; byte < 256; byte++) {
    pieces.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_BYTE);
  }
  const words = new Set<string>([...options.says, ...(options.extraPieces ?? []), '▁', 'assistant', 'user', 'system']);
  for (const letter of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?:;()"\'{}') words.add(letter);
  for (const word of words) {
    if (pieces.includes(word)) continue;
    pieces.push(word);
    types.push(TOKEN_NORMAL);
  }
  // Longer pieces score higher so the tokenizer prefers whole words.
  const scores = pieces.map((piece, id) => (types[id] === TOKEN_NORMAL ? -1000 + [...piece].length * 10 : 0));
  const vocab = pieces.length;
  const idOf = (piece: string): number => {
    const id = pieces.indexOf(piece);
    if (id < 0) throw new Error(`no token ${piece}`);
    return id;
  };

  const says = options.says.map(idOf);
  if (new Set(says).size !== says.length) throw new Error('the pieces the model says must be distinct');
  if (says.length + 1 > EMBEDDING) throw new Error(`at most ${EMBEDDING - 1} pieces`);
  const random = mulberry32(options.seed ?? 7);
  const noise = (scale: number) => (random() * 2 - 1) * scale;

  // Embeddings: every token outside the chain shares basis direction 0 ("start"); chain token k owns
  // direction k + 1. Random tokens never appear last in a prompt that matters, so they may overlap.
  const tokenEmbd = new Float32Array(EMBEDDING * vocab);
  for (let id = 0; id < vocab; id++) {
    const k = says.indexOf(id);
    tokenEmbd[id * EMBEDDING + (k < 0 ? 0 : k + 1)] = 1;
  }
  // Output: direction 0 → first piece; direction k + 1 → the piece after piece k.
  const eos = idOf('</s>');
  const output = new Float32Array(EMBEDDING * vocab);
  const strength = 8;
  const first = says[0];
  if (first === undefined) throw new Error('the model must say something');
  output[first * EMBEDDING + 0] = strength;
  says.forEach((_, k) => {
    const next = k + 1 < says.length ? says[k + 1] : options.then === 'loop' ? (says[1] ?? first) : eos;
    output[(next ?? eos) * EMBEDDING + k + 1] = strength;
  });

  const ones = (n: number) => new Float32Array(n).fill(1);
  const randoms = (n: number, scale: number) => Float32Array.from({ length: n }, () => noise(scale));
  const tensors: { name: string; dims: number[]; data: Float32Array }[] = [
    { name: 'token_embd.weight', dims: [EMBEDDING, vocab], data: tokenEmbd },
    { name: 'blk.0.attn_norm.weight', dims: [EMBEDDING], data: ones(EMBEDDING) },
    { name: 'blk.0.attn_q.weight', dims: [EMBEDDING, HEADS * HEAD_DIM], data: randoms(EMBEDDING * HEADS * HEAD_DIM, 0.2) },
    { name: 'blk.0.attn_k.weight', dims: [EMBEDDING, HEADS_KV * HEAD_DIM], data: randoms(EMBEDDING * HEADS_KV * HEAD_DIM, 0.2) },
    { name: 'blk.0.attn_v.weight', dims: [EMBEDDING, HEADS_KV * HEAD_DIM], data: randoms(EMBEDDING * HEADS_KV * HEAD_DIM, 0.2) },
    // Near-zero projections back into the residual stream keep the chain deterministic.
    { name: 'blk.0.attn_output.weight', dims: [HEADS * HEAD_DIM, EMBEDDING], data: randoms(HEADS * HEAD_DIM * EMBEDDING, 1e-4) },
    { name: 'blk.0.ffn_norm.weight', dims: [EMBEDDING], data: ones(EMBEDDING) },
    { name: 'blk.0.ffn_gate.weight', dims: [EMBEDDING, FEED_FORWARD], data: randoms(EMBEDDING * FEED_FORWARD, 0.2) },
    { name: 'blk.0.ffn_up.weight', dims: [EMBEDDING, FEED_FORWARD], data: randoms(EMBEDDING * FEED_FORWARD, 0.2) },
    { name: 'blk.0.ffn_down.weight', dims: [FEED_FORWARD, EMBEDDING], data: randoms(FEED_FORWARD * EMBEDDING, 1e-4) },
    { name: 'output_norm.weight', dims: [EMBEDDING], data: ones(EMBEDDING) },
    { name: 'output.weight', dims: [EMBEDDING, vocab], data: output },
  ];

  const w = new GgufWriter();
  const kvs: [string, (w: GgufWriter) => void][] = [
    ['general.architecture', (w) => w.stringValue('llama')],
    ['general.name', (w) => w.stringValue('koe-tiny-test')],
    ['general.alignment', (w) => w.u32Value(ALIGNMENT)],
    ['general.file_type', (w) => w.u32Value(0)],
    ['llama.context_length', (w) => w.u32Value(CONTEXT)],
    ['llama.embedding_length', (w) => w.u32Value(EMBEDDING)],
    ['llama.block_count', (w) => w.u32Value(1)],
    ['llama.feed_forward_length', (w) => w.u32Value(FEED_FORWARD)],
    ['llama.attention.head_count', (w) => w.u32Value(HEADS)],
    ['llama.attention.head_count_kv', (w) => w.u32Value(HEADS_KV)],
    ['llama.rope.dimension_count', (w) => w.u32Value(HEAD_DIM)],
    ['llama.attention.layer_norm_rms_epsilon', (w) => w.f32Value(1e-5)],
    ['tokenizer.ggml.model', (w) => w.stringValue('llama')],
    ['tokenizer.ggml.tokens', (w) => w.stringArray(pieces)],
    ['tokenizer.ggml.scores', (w) => w.f32Array(scores)],
    ['tokenizer.ggml.token_type', (w) => w.i32Array(types)],
    ['tokenizer.ggml.unknown_token_id', (w) => w.u32Value(idOf('<unk>'))],
    ['tokenizer.ggml.bos_token_id', (w) => w.u32Value(idOf('<s>'))],
    ['tokenizer.ggml.eos_token_id', (w) => w.u32Value(eos)],
    ['tokenizer.ggml.add_bos_token', (w) => w.boolValue(true)],
    ['tokenizer.ggml.add_space_prefix', (w) => w.boolValue(false)],
    ['tokenizer.chat_template', (w) => w.stringValue(CHATML_TEMPLATE)],
  ];

  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const [key, value] of kvs) {
    w.string(key);
    value(w);
  }
  let offset = 0;
  for (const tensor of tensors) {
    w.string(tensor.name);
    w.u32(tensor.dims.length);
    for (const dim of tensor.dims) w.u64(dim);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset = alignUp(offset + tensor.data.byteLength);
  }
  w.pad();
  for (const tensor of tensors) {
    w.bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    w.pad();
  }
  const file = w.finish();
  writeFileSync(path, file);
  return { bytes: file.byteLength, vocabSize: vocab };
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

class GgufWriter {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  bytes(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.byteLength;
  }

  #fixed(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.bytes(bytes);
  }

  u32(n: number): void {
    this.#fixed(4, (v) => v.setUint32(0, n, true));
  }
  i32(n: number): void {
    this.#fixed(4, (v) => v.setInt32(0, n, true));
  }
  u64(n: number): void {
    this.#fixed(8, (v) => v.setBigUint64(0, BigInt(n), true));
  }
  f32(n: number): void {
    this.#fixed(4, (v) => v.setFloat32(0, n, true));
  }
  string(text: string): void {
    const bytes = new TextEncoder().encode(text);
    this.u64(bytes.byteLength);
    this.bytes(bytes);
  }

  u32Value(n: number): void {
    this.u32(ValueType.UINT32);
    this.u32(n);
  }
  f32Value(n: number): void {
    this.u32(ValueType.FLOAT32);
    this.f32(n);
  }
  boolValue(b: boolean): void {
    this.u32(ValueType.BOOL);
    this.bytes(Uint8Array.of(b ? 1 : 0));
  }
  stringValue(text: string): void {
    this.u32(ValueType.STRING);
    this.string(text);
  }
  stringArray(items: string[]): void {
    this.u32(ValueType.ARRAY);
    this.u32(ValueType.STRING);
    this.u64(items.length);
    for (const item of items) this.string(item);
  }
  f32Array(items: number[]): void {
    this.u32(ValueType.ARRAY);
    this.u32(ValueType.FLOAT32);
    this.u64(items.length);
    for (const item of items) this.f32(item);
  }
  i32Array(items: number[]): void {
    this.u32(ValueType.ARRAY);
    this.u32(ValueType.INT32);
    this.u64(items.length);
    for (const item of items) this.i32(item);
  }

  /** Zero bytes up to the next multiple of the alignment, counted from the start of the file. */
  pad(): void {
    const padding = alignUp(this.#length) - this.#length;
    if (padding > 0) this.bytes(new Uint8Array(padding));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

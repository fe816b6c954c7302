// Checks that a model path names a GGUF file before node-llama-cpp sees it, so a wrong path or a
// non-GGUF file gets one clear error that names the path. Koe never downloads models.
import { open, stat } from 'node:fs/promises';
import { DialogueError } from '../dialogue.js';

const MAGIC = 'GGUF';
/** Magic, version, tensor count, key-value count. */
const HEADER_BYTES = 24;
/** The least an entry can take: a name (length + 1 byte), its dimension count, one dimension, type and offset. */
const MIN_TENSOR_INFO_BYTES = 8n + 1n + 4n + 8n + 4n + 8n;
/** A key (length + 1 byte), its type, and the smallest value. */
const MIN_KV_BYTES = 8n + 1n + 4n + 1n;

export async function checkGgufFile(path: string): Promise<{ version: number; bytes: number }> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DialogueError(`gguf: model path is not a file: ${path}`, 'unavailable', false);
    size = info.size;
  } catch (error) {
    if (error instanceof DialogueError) throw error;
    const code = (error as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new DialogueError(
      `gguf: model file not found: ${path} (${reason}). Koe does not download models: point LLM_GGUF at a .gguf file on this machine`,
      'unavailable',
      false,
      { cause: error },
    );
  }
  const header = Buffer.alloc(HEADER_BYTES);
  const file = await open(path, 'r');
  try {
    await file.read(header, 0, HEADER_BYTES, 0);
  } finally {
    await file.close();
  }
  if (size < 8 || header.toString('latin1', 0, 4) !== MAGIC) {
    throw new DialogueError(`gguf: not a GGUF model file: ${path} (it does not start with "GGUF")`, 'unavailable', false);
  }
  const version = header.readUInt32LE(4);
  if (version < 2 || version > 3) {
    throw new DialogueError(`gguf: unsupported GGUF version ${version} in ${path} (llama.cpp reads versions 2 and 3)`, 'unavailable', false);
  }
  // A corrupt header can claim billions of entries, and the readers then spin instead of failing.
  const tensors = size >= HEADER_BYTES ? header.readBigUInt64LE(8) : -1n;
  const keys = size >= HEADER_BYTES ? header.readBigUInt64LE(16) : -1n;
  if (tensors < 0n || keys < 0n || tensors * MIN_TENSOR_INFO_BYTES + keys * MIN_KV_BYTES > BigInt(size)) {
    throw new DialogueError(`gguf: ${path} is corrupt or truncated (its header does not fit in ${size} bytes)`, 'unavailable', false);
  }
  return { version, bytes: size };
}

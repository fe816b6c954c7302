// Worker thread owning the compiled Flite module. Each sentence runs in a fresh wasm instance (Flite is a
// command-line program: one `main` per instance), so nothing leaks from one sentence into the next.
import { StageError } from '../stage.js';
import { serveWorker } from '../worker-pool.js';
import { compileFliteModule, parseFliteWav, runFlite } from './flite-wasi-runner.js';
import { trimSilence } from './silence-trim.js';

export interface FliteRequest {
  /** Already cleaned by the synthesizer: plain ASCII, one sentence. */
  text: string;
  voice: string;
  /** Flite's duration_stretch (1 = normal pace, larger = slower). */
  durationStretch: number;
  trim: { leadMs: number; trailMs: number } | undefined;
}

export interface FliteResult {
  /** Mono PCM16 at `sampleRateHz`, moved out of the worker. */
  pcm: ArrayBuffer;
  sampleRateHz: number;
  synthMs: number;
}

serveWorker<FliteRequest, FliteResult>(() => {
  const module = compileFliteModule();
  return {
    handle(request) {
      const started = performance.now();
      const run = runFlite(module, [
        'flite',
        '-voice', request.voice,
        '--setf', `duration_stretch=${request.durationStretch}`,
        // The leading space keeps text such as "-5 degrees" from being read as one of Flite's options.
        '-t', ` ${request.text} `,
        'out.wav',
      ]);
      if (run.exitCode !== 0 || !run.output) {
        throw new StageError('internal', `Flite exited with code ${run.exitCode}: ${run.console.trim().slice(0, 200)}`);
      }
      const { sampleRateHz, samples } = parseFliteWav(run.output);
      const pcm = request.trim ? trimSilence(samples, sampleRateHz, request.trim.leadMs, request.trim.trailMs) : samples;
      const owned = pcm.slice();
      return { result: { pcm: owned.buffer, sampleRateHz, synthMs: performance.now() - started }, transfer: [owned.buffer] };
    },
  };
});

// Tells live Koe processes from dead ones, so calls left `active` by a process that died (kill -9,
// crash, lost machine) are marked `abandoned`. Each process upserts a heartbeat row on a timer and, on
// the same timer, sweeps calls of processes whose heartbeat stopped. Process ids are random per run, so
// "dead" cannot be known from the id itself; the heartbeat's age is the evidence.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.js';
import type { Database } from './store.js';
import type { CallRepository } from './call-store.js';

export interface ProcessHeartbeatOptions {
  db: Database;
  calls: CallRepository;
  processId: string;
  log: Logger;
  intervalMs: number;
  /** A heartbeat older than this means the process is dead. */
  abandonAfterMs: number;
  /**
   * The staleness used by the sweep at startup. With PGlite only this process can have the database
   * open (the folder is locked), so every other process is dead: 0.
   */
  startupAbandonAfterMs: number;
}

export class ProcessHeartbeat {
  readonly #options: ProcessHeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #beat: Promise<void> | undefined;

  constructor(options: ProcessHeartbeatOptions) {
    if (!(options.abandonAfterMs > options.intervalMs)) {
      throw new RangeError(`abandonAfterMs (${options.abandonAfterMs}) must be longer than the heartbeat interval (${options.intervalMs})`);
    }
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#heartbeat();
    await this.#sweep(this.#options.startupAbandonAfterMs);
    this.#timer = setInterval(() => {
      // Skipped while the previous beat is still waiting on a slow database.
      this.#beat ??= this.#tick().finally(() => {
        this.#beat = undefined;
      });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** Stops beating and removes this process's row: its calls (if any are left active) are abandoned at once by others. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beat;
    await this.#options.db
      .query('DELETE FROM koe_processes WHERE process_id = $1', [this.#options.processId])
      .catch((err: unknown) => this.#options.log.debug({ err }, 'could not remove this process heartbeat row'));
  }

  async #tick(): Promise<void> {
    try {
      await this.#heartbeat();
      await this.#sweep(this.#options.abandonAfterMs);
    } catch (err) {
      // The writer already reports an unreachable database; a missed beat needs no more noise.
      this.#options.log.debug({ err }, 'process heartbeat failed');
    }
  }

  async #heartbeat(): Promise<void> {
    await this.#options.db.query(
      `INSERT INTO koe_processes (process_id, hostname, pid) VALUES ($1, $2, $3)
       ON CONFLICT (process_id) DO UPDATE SET heartbeat_at = now()`,
      [this.#options.processId, hostname(), process.pid],
    );
  }

  async #sweep(staleAfterMs: number): Promise<void> {
    const abandoned = await this.#options.calls.markAbandoned({ staleAfterMs });
    if (abandoned.length > 0) this.#options.log.warn({ callIds: abandoned }, 'calls left active by a Koe process that stopped were marked abandoned');
    // Rows of long-dead processes serve no purpose once their calls are swept.
    await this.#options.db.query("DELETE FROM koe_processes WHERE heartbeat_at < now() - interval '1 day'");
  }
}

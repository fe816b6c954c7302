// Types for postgres-for-tests.mjs (imported by TypeScript tests).
export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** For process 'exit' handlers. */
  stopSync(): void;
  /** Stops the server, keeping its data; connections are cut. */
  pause(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
}

export const INSTALL_HINT: string;
export function findPostgresBin(): string | undefined;
export function startPostgres(): Promise<TestPostgres>;

// What the dashboard API's route modules are given.
import type { AgentRegistry } from '../../agents/index.js';
import type { CallServices } from '../../call/twilio-stream-handler.js';
import type { OutboundDialer } from '../../campaigns/outbound-dialer.js';
import type { Config } from '../../config/index.js';
import type { LiveHub } from '../../live/live-hub.js';
import type { Logger } from '../../log/logger.js';
import type { AgentCatalog } from '../../store/agent-catalog.js';
import type { Store } from '../../store/store.js';
import type { PasswordHash } from '../auth/admin-password.js';
import type { LoginRateLimiter } from '../auth/login-rate-limiter.js';
import type { LoginSessions } from '../auth/login-sessions.js';

/** What the API needs of the agent catalog: stored edits that also update the registry calls use. */
export type AgentEditor = Pick<AgentCatalog, 'save' | 'remove'>;

export interface DashboardApiDeps {
  config: Config;
  log: Logger;
  store: Store;
  /** Agent edits; without it the agents are read-only (503 on changes). */
  catalog: AgentEditor | undefined;
  agents: AgentRegistry;
  live: LiveHub;
  callServices: CallServices;
  /** Places outbound calls (the API's POST /api/calls and campaigns share it). */
  dialer: OutboundDialer;
  processId: string;
  password: PasswordHash;
  sessions: LoginSessions;
  loginLimiter: LoginRateLimiter;
  version: string;
}

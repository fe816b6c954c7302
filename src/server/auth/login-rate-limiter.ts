// Password guessing limits, per client IP and for the whole process. An attempt counts as a failure from
// the moment it starts (scrypt takes ~50 ms), so a burst of parallel guesses cannot slip past the limit
// before the first answer; a successful login clears its IP's record.

export interface RateLimits {
  /** Failed attempts one IP may make per window. */
  perIpFailures: number;
  /** Failed attempts all IPs together may make per window: bounds a guesser spread over many addresses. */
  globalFailures: number;
  windowMs: number;
  /** IPs remembered at most; past this the oldest records go (the global limit still holds). */
  maxTrackedIps: number;
}

export const DEFAULT_LOGIN_LIMITS: RateLimits = {
  perIpFailures: 5,
  globalFailures: 100,
  windowMs: 15 * 60_000,
  maxTrackedIps: 10_000,
};

export type AttemptVerdict = { allowed: true; attempt: LoginAttempt } | { allowed: false; retryAfterSec: number };

export interface LoginAttempt {
  /** The password was right: forget this IP's failures and this attempt. */
  succeeded(): void;
}

export class LoginRateLimiter {
  readonly #byIp = new Map<string, number[]>();
  #global: number[] = [];

  constructor(
    private readonly limits: RateLimits = DEFAULT_LOGIN_LIMITS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  begin(ip: string): AttemptVerdict {
    const now = this.nowMs();
    const since = now - this.limits.windowMs;
    this.#global = this.#global.filter((t) => t > since);
    const mine = (this.#byIp.get(ip) ?? []).filter((t) => t > since);
    const blockedUntil = [
      mine.length >= this.limits.perIpFailures ? (mine[mine.length - this.limits.perIpFailures] as number) : -Infinity,
      this.#global.length >= this.limits.globalFailures
        ? (this.#global[this.#global.length - this.limits.globalFailures] as number)
        : -Infinity,
    ].reduce((a, b) => Math.max(a, b));
    if (blockedUntil > -Infinity) {
      this.#byIp.set(ip, mine);
      return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((blockedUntil + this.limits.windowMs - now) / 1000)) };
    }
    mine.push(now);
    this.#global.push(now);
    // Re-inserting keeps the map in least-recently-tried order for the eviction below.
    this.#byIp.delete(ip);
    this.#byIp.set(ip, mine);
    this.#evict();
    let settled = false;
    return {
      allowed: true,
      attempt: {
        succeeded: () => {
          if (settled) return;
          settled = true;
          this.#byIp.delete(ip);
          const at = this.#global.lastIndexOf(now);
          if (at >= 0) this.#global.splice(at, 1);
        },
      },
    };
  }

  #evict(): void {
    for (const ip of this.#byIp.keys()) {
      if (this.#byIp.size <= this.limits.maxTrackedIps) return;
      this.#byIp.delete(ip);
    }
  }
}

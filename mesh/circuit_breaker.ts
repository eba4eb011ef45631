/**
 * Circuit breakers guarding provider endpoints: {@linkcode CircuitBreaker}
 * and the per-agent {@linkcode BreakerBoard} keyed by endpoint.
 *
 * A breaker opens after `failureThreshold` consecutive failures, or when the
 * failure ratio over the last `windowMs` reaches `failureRatio` (with at least
 * `minimumCalls` calls in the window). While open the endpoint is not chosen;
 * after `resetTimeoutMs` it half-opens and lets exactly one probe call through,
 * which closes it on success and reopens it on failure. Independently, any
 * failure puts the endpoint in a short cool-down (`coolDownMs`) during which
 * balancers prefer other providers.
 *
 * @module
 */

/** Settings of a circuit breaker (every field optional, defaults in {@linkcode DEFAULT_BREAKER}). */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** Failure ratio over the window that opens the circuit (default 0.5). */
  failureRatio?: number;
  /** Calls the window must hold before the ratio counts (default 10). */
  minimumCalls?: number;
  /** Length of the sliding window in milliseconds (default 10 000). */
  windowMs?: number;
  /** Milliseconds an open circuit waits before a probe (default 5 000). */
  resetTimeoutMs?: number;
  /** Milliseconds a failed endpoint is skipped while others are available (default 1 000). */
  coolDownMs?: number;
}

/** Defaults of {@linkcode CircuitBreakerOptions}. */
export const DEFAULT_BREAKER: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  failureThreshold: 5,
  failureRatio: 0.5,
  minimumCalls: 10,
  windowMs: 10_000,
  resetTimeoutMs: 5_000,
  coolDownMs: 1_000,
});

/** State of a circuit: `closed` passes calls, `open` rejects, `half-open` allows one probe. */
export type CircuitState = "closed" | "open" | "half-open";

/** Buckets the sliding window is split into. */
const BUCKETS = 10;

/** The breaker of one endpoint. */
export class CircuitBreaker {
  #settings: Required<CircuitBreakerOptions>;
  #now: () => number;
  #state: CircuitState = "closed";
  #consecutive = 0;
  #openedAt = 0;
  #coolUntil = 0;
  #probing = false;
  #bucketStart = new Array<number>(BUCKETS).fill(0);
  #bucketCalls = new Array<number>(BUCKETS).fill(0);
  #bucketFailures = new Array<number>(BUCKETS).fill(0);

  /** `now` is injectable for tests of the clock-driven transitions. */
  constructor(options: CircuitBreakerOptions = {}, now: () => number = Date.now) {
    this.#settings = { ...DEFAULT_BREAKER, ...options };
    this.#now = now;
  }

  /** Replaces the settings (state is kept). */
  configure(options: CircuitBreakerOptions): void {
    this.#settings = { ...DEFAULT_BREAKER, ...options };
  }

  /** Current state; an open circuit whose delay passed reports `half-open`. */
  get state(): CircuitState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#settings.resetTimeoutMs) {
      return "half-open";
    }
    return this.#state;
  }

  /** Whether a call may be sent now (a half-open circuit admits one probe at a time). */
  get admits(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half-open" && !this.#probing);
  }

  /** Whether the endpoint is in its post-failure cool-down. */
  get coolingDown(): boolean {
    return this.#now() < this.#coolUntil;
  }

  /** Marks a call as sent; in `half-open` it becomes the single probe. */
  acquire(): void {
    if (this.state === "half-open") {
      this.#state = "half-open";
      this.#probing = true;
    }
  }

  /** Records a successful call: a probe closes the circuit. */
  success(): void {
    this.#record(false);
    this.#consecutive = 0;
    this.#coolUntil = 0;
    if (this.#state !== "closed") {
      this.#state = "closed";
      this.#probing = false;
      this.#bucketCalls.fill(0);
      this.#bucketFailures.fill(0);
    }
  }

  /** Records a failed call: may open the circuit; always starts a cool-down. */
  failure(): void {
    const now = this.#now();
    this.#record(true);
    this.#consecutive++;
    this.#coolUntil = now + this.#settings.coolDownMs;
    if (this.#state === "half-open" || this.#tripped()) {
      this.#state = "open";
      this.#openedAt = now;
      this.#probing = false;
    }
  }

  #tripped(): boolean {
    const { failureThreshold, failureRatio, minimumCalls } = this.#settings;
    if (this.#consecutive >= failureThreshold) return true;
    let calls = 0;
    let failures = 0;
    const oldest = this.#now() - this.#settings.windowMs;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#bucketStart[i] < oldest) continue;
      calls += this.#bucketCalls[i];
      failures += this.#bucketFailures[i];
    }
    return calls >= minimumCalls && failures / calls >= failureRatio;
  }

  #record(failed: boolean): void {
    const width = this.#settings.windowMs / BUCKETS;
    const slot = Math.floor(this.#now() / width);
    const i = slot % BUCKETS;
    const start = slot * width;
    if (this.#bucketStart[i] !== start) {
      this.#bucketStart[i] = start;
      this.#bucketCalls[i] = 0;
      this.#bucketFailures[i] = 0;
    }
    this.#bucketCalls[i]++;
    if (failed) this.#bucketFailures[i]++;
  }
}

/** The breakers of one agent, one per provider endpoint, surviving rewiring. */
export class BreakerBoard {
  #breakers = new Map<string, CircuitBreaker>();

  /** The breaker of `endpoint`, created on first use; `options` (when given) replace its settings. */
  get(endpoint: string, options?: CircuitBreakerOptions): CircuitBreaker {
    let breaker = this.#breakers.get(endpoint);
    if (!breaker) {
      breaker = new CircuitBreaker(options);
      this.#breakers.set(endpoint, breaker);
    } else if (options) {
      breaker.configure(options);
    }
    return breaker;
  }

  /** Every endpoint with its breaker's state. */
  states(): [endpoint: string, state: CircuitState][] {
    return [...this.#breakers].map(([endpoint, breaker]) => [endpoint, breaker.state]);
  }
}

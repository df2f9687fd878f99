// A periodic link task (topic sync, consumer offset sync, ACL sync) as an explicit state machine with a reason:
//
//   NOT_RUNNING ──start()──▶ ACTIVE ◀───── a run succeeds ─────── LINK_UNAVAILABLE (source unreachable;
//                              │                                    retried with growing backoff)
//                              ├── paused() ──▶ PAUSED ── !paused() + trigger() ──▶ ACTIVE
//                              ├── the source lacks an API ──▶ NOT_RUNNING (with the reason; retried each interval)
//                              └── any other failure ──▶ FAULTED (with the reason; retried each interval)
//   any ──stop()──▶ NOT_RUNNING (final)
//
// A run may also finish ACTIVE with a non-empty reason (`note`), e.g. "skipped groups with live members: g1".
import { KafkaError, isRetriable } from '../protocol/errors.js';
import type { TaskState, TaskStatus } from './service.js';
import { SourceUnsupportedError } from './source/types.js';

export interface TaskLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Transport failures and retriable Kafka errors mean "the source is unavailable", not "the task is broken". */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof KafkaError) return isRetriable(err.code);
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code);
}

export abstract class PeriodicTask {
  private stateValue: TaskState = 'NOT_RUNNING';
  private reasonValue = 'not started';
  private stopped = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private failures = 0;
  /** trigger() came while a run was in progress: skip the next sleep */
  private triggered = false;
  /** set by run() to report something while staying ACTIVE */
  protected note = '';
  private readonly ac = new AbortController();
  /** runs finished (ok or not); tests and promote wait on it */
  private completedRuns = 0;
  private runWaiters: { after: number; resolve: () => void }[] = [];

  constructor(
    readonly name: string,
    private readonly intervalMs: () => number,
    private readonly isPaused: () => boolean,
    protected readonly logger: TaskLogger,
    private readonly retryBackoffMs: () => number = () => 100,
  ) {}

  protected abstract run(signal: AbortSignal): Promise<void>;

  get state(): TaskState {
    return this.stateValue;
  }

  status(): TaskStatus {
    return { name: this.name, state: this.stateValue, reason: this.reasonValue };
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.main();
  }

  /** Runs now instead of at the next interval (config changed, resumed, a failover wants a last sync). */
  trigger(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    if (w) w();
    else this.triggered = true;
  }

  /** Triggers a run and resolves when a run that started after this call has finished. */
  runNow(timeoutMs: number): Promise<void> {
    const after = this.completedRuns + (this.running ? 1 : 0);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.runWaiters.push({ after, resolve: done });
      this.trigger();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ac.abort();
    this.trigger();
    await this.loop;
    this.set('NOT_RUNNING', 'stopped');
    for (const w of this.runWaiters.splice(0)) w.resolve();
  }

  private set(state: TaskState, reason: string): void {
    if (state !== this.stateValue) this.logger.info({ task: this.name, from: this.stateValue, to: state, reason }, 'shadow link task state');
    this.stateValue = state;
    this.reasonValue = reason;
  }

  private sleep(ms: number): Promise<void> {
    if (this.triggered || this.stopped) {
      this.triggered = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
    });
  }

  private async main(): Promise<void> {
    while (!this.stopped) {
      if (this.isPaused()) {
        this.set('PAUSED', 'paused');
        await this.sleep(this.intervalMs());
        continue;
      }
      let waitMs = this.intervalMs();
      this.running = true;
      try {
        this.note = '';
        await this.run(this.ac.signal);
        this.failures = 0;
        if (!this.stopped) this.set('ACTIVE', this.note);
      } catch (err) {
        if (this.stopped) break;
        const message = (err as Error)?.message ?? String(err);
        if (err instanceof SourceUnsupportedError) {
          this.set('NOT_RUNNING', message);
        } else if (isUnavailableError(err)) {
          this.failures++;
          this.set('LINK_UNAVAILABLE', `source unavailable: ${message}`);
          waitMs = Math.min(waitMs, this.retryBackoffMs() * 2 ** Math.min(this.failures, 7));
        } else {
          this.failures++;
          this.set('FAULTED', message);
          this.logger.warn({ task: this.name, err }, 'shadow link task failed; retrying at the next interval');
        }
      } finally {
        this.running = false;
        this.completedRuns++;
        const ready = this.runWaiters.filter((w) => w.after < this.completedRuns);
        this.runWaiters = this.runWaiters.filter((w) => w.after >= this.completedRuns);
        for (const w of ready) w.resolve();
      }
      if (!this.stopped) await this.sleep(waitMs);
    }
  }
}

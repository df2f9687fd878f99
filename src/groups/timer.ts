// Keyed one-shot timers for the group coordinator (Kafka's CoordinatorTimer): scheduling a key replaces the timer
// already under that key, so "reschedule the heartbeat of member m" is one call. Timers are unref'd: the coordinator
// never keeps a process alive on its own; close() cancels everything.

export class KeyedTimer {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onError: (err: unknown, key: string) => void;

  constructor(onError: (err: unknown, key: string) => void) {
    this.onError = onError;
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      if (this.timers.get(key) === timer) this.timers.delete(key);
      try {
        fn();
      } catch (err) {
        this.onError(err, key);
      }
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  get size(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * Wall clock, monotonic clock and timers under the test's hand. `advance` moves both clocks and
 * fires the timers that come due, as time passes on a running machine; `sleep` moves only the wall
 * clock, as a suspended machine sees it on waking (Node's timers stand still meanwhile).
 */
export class FakeTime {
  mono = 1_000;
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private nextId = 1;
  constructor(
    public wall: number,
    public zone = 'Europe/Berlin',
  ) {}
  readonly clock = { now: () => this.wall, timeZone: () => this.zone };
  readonly monotonic = (): number => this.mono;
  readonly timersApi = {
    setTimeout: (fn: () => void, ms: number): unknown => {
      const id = this.nextId++;
      this.timers.push({ id, at: this.mono + ms, fn });
      return id;
    },
    clearTimeout: (h: unknown): void => {
      this.timers = this.timers.filter((t) => t.id !== h);
    },
  };
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.wall += due.at - this.mono;
      this.mono = due.at;
      due.fn();
      await settle();
    }
    this.wall += end - this.mono;
    this.mono = end;
    await settle();
  }
  sleep(ms: number): void {
    this.wall += ms;
  }
}

/** Lets the runners, job events and account pushes (all promise-driven) finish. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

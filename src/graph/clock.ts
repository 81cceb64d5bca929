/**
 * One 20 ms clock for the whole process. Every paced stream ticks on it, so a thousand calls cost one timer, not
 * a thousand. The timer self-corrects against `performance.now()`: after a stall it runs the missed ticks (up to
 * `maxCatchUp`) so the total audio sent stays real time, then resynchronises. It stops when nothing listens, so
 * no timer outlives the last call.
 */
export interface Tickable {
  onTick(): void;
}

export class FrameClock {
  readonly periodMs: number;
  readonly maxCatchUp: number;
  #members = new Set<Tickable>();
  #timer: NodeJS.Timeout | null = null;
  #next = 0;
  #firing = false;
  /** Ticks run since the process started (catch-up ticks included). */
  ticks = 0;

  constructor(periodMs = 20, maxCatchUp = 10) {
    this.periodMs = periodMs;
    this.maxCatchUp = maxCatchUp;
  }

  get size(): number {
    return this.#members.size;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  add(member: Tickable): void {
    this.#members.add(member);
    if (this.#timer === null && !this.#firing) {
      this.#next = performance.now() + this.periodMs;
      this.#schedule();
    }
  }

  delete(member: Tickable): void {
    this.#members.delete(member);
    if (this.#members.size === 0 && this.#timer !== null && !this.#firing) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #schedule(): void {
    const delay = Math.max(0, this.#next - performance.now());
    this.#timer = setTimeout(this.#fire, delay);
  }

  #fire = (): void => {
    this.#timer = null;
    const now = performance.now();
    let due = Math.floor((now - this.#next) / this.periodMs) + 1;
    if (due > this.maxCatchUp) {
      // A long stall: play what a short one would, then resynchronise rather than burst seconds of audio.
      this.#next = now - this.periodMs * (this.maxCatchUp - 1);
      due = this.maxCatchUp;
    }
    this.#firing = true;
    try {
      for (let i = 0; i < due; i++) {
        this.ticks++;
        for (const member of this.#members) member.onTick();
      }
    } finally {
      this.#firing = false;
    }
    this.#next += due * this.periodMs;
    if (this.#members.size > 0) this.#schedule();
  };
}

/** The process's frame clock. */
export const frameClock = new FrameClock();

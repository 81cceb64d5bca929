/**
 * Process CPU and memory as the OS counts them: user + system time from `/proc/<pid>/stat` (clock ticks) and
 * `VmRSS` from `/proc/<pid>/status`, plus the whole machine's busy time from `/proc/stat` (the machine is shared:
 * the report says how much of it other work took).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 on every common build.
}

/** CPU time (user + system) of a process in ms; NaN when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at index 2 = state; utime is field 14.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes; NaN when the process is gone. */
export function processRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Whole-machine CPU: busy and total time across all cores, in ms. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // Busy is summed from the busy counters (user, nice, system, irq, softirq, steal), not as total − idle: idle
  // and iowait are accounted lazily on tickless kernels and were seen to jump here.
  const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (busy * 1000) / ticksPerSecond, total: (total * 1000) / ticksPerSecond };
}

export interface CpuSnapshot {
  at: number;
  cpu: Record<string, number>;
  machine: { busy: number; total: number };
}

export function snapshot(pids: Record<string, number>): CpuSnapshot {
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) cpu[name] = processCpuMs(pid);
  return { at: performance.now(), cpu, machine: machineCpuMs() };
}

/** Samples RSS of each process every `everyMs` until stopped; returns the mean and max per process. */
export function rssSampler(
  pids: Record<string, number>,
  everyMs = 1000,
): () => Record<string, { mean: number; max: number }> {
  const samples: Record<string, number[]> = {};
  const take = (): void => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = processRssBytes(pid);
      if (!Number.isFinite(rss)) continue;
      const list = samples[name] ?? [];
      list.push(rss);
      samples[name] = list;
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    const out: Record<string, { mean: number; max: number }> = {};
    for (const [name, list] of Object.entries(samples)) {
      out[name] = { mean: list.reduce((a, b) => a + b, 0) / list.length, max: Math.max(...list) };
    }
    return out;
  };
}

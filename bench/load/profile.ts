/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. from `npm run bench:load -- --cpu-prof DIR`): self time by
 * function and by source file, top first, plus the share of GC and idle time.
 *
 *   node --import tsx bench/load/profile.ts DIR/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  functions: { name: string; where: string; selfMs: number; pct: number }[];
  files: { file: string; selfMs: number; pct: number }[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/**
 * `windows`: only samples taken inside these [from, to] spans count (µs on the monotonic clock, the clock of
 * `process.hrtime` and of the profile's timestamps), e.g. the measurement windows of a load run.
 */
export function summarise(
  profile: Profile,
  top = 25,
  windows?: readonly (readonly [number, number])[],
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows !== undefined && !windows.some(([from, to]) => at >= from && at <= to)) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  }
  let total = 0;
  let idle = 0;
  let gc = 0;
  const fns = new Map<string, { name: string; where: string; selfMs: number }>();
  const files = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    total += t;
    if (name === '(idle)') {
      idle += t;
      continue;
    }
    if (name === '(garbage collector)') gc += t;
    const file = shortUrl(n.callFrame.url);
    const where = n.callFrame.url === '' ? file : `${file}:${n.callFrame.lineNumber + 1}`;
    const key = `${name}@${where}`;
    const entry = fns.get(key) ?? { name, where, selfMs: 0 };
    entry.selfMs += t;
    fns.set(key, entry);
    files.set(file, (files.get(file) ?? 0) + t);
  }
  const busy = total - idle;
  const pct = (v: number): number => (busy > 0 ? (v / busy) * 100 : 0);
  return {
    totalMs: total,
    idleMs: idle,
    gcMs: gc,
    functions: [...fns.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, pct: pct(f.selfMs) })),
    files: [...files]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, selfMs]) => ({ file, selfMs, pct: pct(selfMs) })),
  };
}

export function renderSummary(s: ProfileSummary): string {
  const busy = s.totalMs - s.idleMs;
  const lines = [
    `profiled ${(s.totalMs / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s, GC ${((s.gcMs / Math.max(1, busy)) * 100).toFixed(1)}% of busy`,
    '',
    '| self % | self ms | function | where |',
    '| ---: | ---: | --- | --- |',
    ...s.functions.map((f) => `| ${f.pct.toFixed(1)} | ${f.selfMs.toFixed(0)} | ${f.name} | ${f.where} |`),
    '',
    '| self % | file |',
    '| ---: | --- |',
    ...s.files.map((f) => `| ${f.pct.toFixed(1)} | ${f.file} |`),
  ];
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('profile.ts')) {
  const topArg = process.argv.indexOf('--top');
  const top = topArg > 0 ? Number(process.argv[topArg + 1]) : 25;
  const files = process.argv.slice(2).filter((a, i, all) => a !== '--top' && all[i - 1] !== '--top');
  for (const file of files) {
    process.stdout.write(
      `## ${file}\n\n${renderSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top))}\n\n`,
    );
  }
}

/**
 * Turns a load run into BENCHMARKS.md's "Load" section (a table per step, ratios, the highest clean step per
 * system), an SVG plot (p99 added latency and CPU per call-second against concurrency) and keeps the raw JSON.
 *
 * Added latency: each system's round-trip quantile minus the same quantile of the direct connection to the echo
 * server at the same step, measured the same way (markers for mu-law, onsets for PCM16). A frame is late when its
 * round trip exceeds the direct path's median by more than 40 ms.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { countAbove, type HistogramJson, quantile, type StepResult } from './common.js';

export interface Row {
  system: string;
  baseline: string | null;
  calls: number;
  result: StepResult;
  setupMs: { n: number; p50: number; p95: number; max: number };
  /** CPU over the window, % of one core, per process (`loadgen`, `echo`, `sut`). */
  cpuPct: Record<string, number>;
  /**
   * The whole machine's busy time over the window from /proc/stat, % of one core. Kept in the JSON only: in this
   * container it disagreed with the processes' own counters (read less than their sum), so the report uses the
   * load average instead.
   */
  machinePct: number;
  /** Highest 1-minute load average seen at the end of a window (includes the benchmark's own processes). */
  loadAvg: number;
  sutCpuMsPerCallSecond: number | null;
  rssMB: Record<string, number>;
  sutRssPerCallKB: number | null;
  sutIdleRssMB: number | null;
  /** Each round of this step (a step may be repeated, interleaved with the other systems). */
  rounds?: {
    windowMs: number;
    sutCpuPct: number | null;
    machinePct: number;
    loadAvg: number;
    rttP50: number;
    rttP99: number;
    framesLost: number;
  }[];
}

export interface LoadRun {
  startedAt: string;
  /** 1-minute load average when the run ended. */
  loadAvgEnd?: number;
  durationS: number;
  command: string;
  steps: number[];
  holdMs: number;
  warmupMs: number;
  rounds?: number;
  systems: { name: string; description: string; baseline: string | null; gaveUpAt?: number }[];
  rows: Row[];
}

export interface Derived {
  added: { p50: number; p95: number; p99: number; max: number } | null;
  rtt: { p50: number; p99: number };
  late: number;
  clean: boolean;
  notes: string[];
}

export const CLEAN_P99_MS = 10;
/** Title of the before/after section (`--section ab`). */
export const AB_TITLE = '### Before/after the hot-path fixes (same run)';
const LATE_MS = 40;

export function derive(run: LoadRun, row: Row): Derived {
  const h = row.result.rtt;
  const base =
    row.baseline === null
      ? undefined
      : run.rows.find((r) => r.system === row.baseline && r.calls === row.calls);
  const bh: HistogramJson | undefined = base?.result.rtt;
  const q = (x: HistogramJson, p: number): number => quantile(x, p);
  const added =
    bh === undefined || bh.n === 0 || h.n === 0
      ? null
      : {
          p50: q(h, 0.5) - q(bh, 0.5),
          p95: q(h, 0.95) - q(bh, 0.95),
          p99: q(h, 0.99) - q(bh, 0.99),
          max: h.max - bh.max,
        };
  const late = h.n === 0 ? 0 : countAbove(h, (bh === undefined ? 0 : q(bh, 0.5)) + LATE_MS);
  const r = row.result;
  const notes: string[] = [];
  if ((row.cpuPct.loadgen ?? 0) >= 90 || r.pacerLateMs.p99 > 20) notes.push('generator saturated');
  if ((row.cpuPct.sut ?? 0) >= 95) notes.push('SUT at one full core');
  if (r.setupFailures > 0) notes.push(`${r.setupFailures} setups failed`);
  if (r.closedEarly > 0) notes.push(`${r.closedEarly} calls dropped`);
  const clean =
    added !== null &&
    added.p99 <= CLEAN_P99_MS &&
    r.framesLost === 0 &&
    r.setupFailures === 0 &&
    r.closedEarly === 0 &&
    r.streaming === row.calls;
  return { added, rtt: { p50: q(h, 0.5), p99: q(h, 0.99) }, late, clean, notes };
}

const f1 = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1);
const f2 = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2);
const ms = (v: number): string =>
  !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null ||
  a === undefined ||
  b === null ||
  b === undefined ||
  !(b > 0) ||
  !(a > 0) ||
  !Number.isFinite(a)
    ? '—'
    : `${(a / b).toFixed(2)}×`;
/** RSS per call; a window whose RSS was under the idle baseline (a GC shrank the heap since) has no estimate. */
const rssCell = (kb: number | null): string =>
  kb === null ? '—' : kb > 0 ? `${kb.toFixed(0)} KB` : 'below idle';

function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${model}, ${availableParallelism()} cores, Node ${process.version}, ${process.platform}/${process.arch}`;
}

function stepTable(run: LoadRun, calls: number): string {
  const lines = [
    '| system | calls up | SUT CPU (% core) | CPU ms per call-s | RSS per call | added p50 / p95 / p99 / max (ms) | lost | late | setup p50 / p95 (ms) | generator CPU | echo CPU | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of run.rows.filter((r) => r.calls === calls)) {
    const d = derive(run, row);
    const r = row.result;
    const latency =
      d.added === null
        ? `rtt ${ms(d.rtt.p50)} / ${ms(quantile(r.rtt, 0.95))} / ${ms(d.rtt.p99)} / ${ms(r.rtt.max)}`
        : `${ms(d.added.p50)} / ${ms(d.added.p95)} / ${ms(d.added.p99)} / ${ms(d.added.max)}`;
    const lost =
      r.method === 'onset'
        ? `${r.framesLost} (${r.burstsSent - r.burstsDetected} bursts)`
        : `${r.framesLost}`;
    lines.push(
      `| ${row.system} | ${r.streaming}/${calls} | ${f1(row.cpuPct.sut)} | ${f2(row.sutCpuMsPerCallSecond)} | ` +
        `${rssCell(row.sutRssPerCallKB)} | ${latency} | ${lost} / ${r.framesSent} | ` +
        `${d.late} | ${ms(row.setupMs.p50)} / ${ms(row.setupMs.p95)} | ${f1(row.cpuPct.loadgen)} | ${f1(row.cpuPct.echo)} | ` +
        `${[d.clean ? 'clean' : '', ...d.notes, `load ${row.loadAvg.toFixed(1)}`].filter(Boolean).join('; ')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The CPU ratio round by round (round i of one system against round i of the other, run back to back), as
 * ` (rounds 1.12–1.31×)`: the spread shows how much of a ratio is this shared machine's noise.
 */
function roundRatios(a: Row, b: Row): string {
  const ra = a.rounds ?? [];
  const rb = b.rounds ?? [];
  const each: number[] = [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!.sutCpuPct;
    const y = rb[i]!.sutCpuPct;
    // Same calls in both rounds, so CPU % of a core compares as CPU per call-second does.
    if (x !== null && y !== null && y > 0 && a.result.streaming === b.result.streaming) each.push(x / y);
  }
  if (each.length < 2) return '';
  return ` (rounds ${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)}×)`;
}

function ratios(run: LoadRun, calls: number): string {
  const get = (name: string): Row | undefined => run.rows.find((r) => r.system === name && r.calls === calls);
  const pairs: [string, string][] = [
    ['voxgate-ulaw', 'floor'],
    ['voxgate-pcm16', 'floor'],
    ['peer', 'voxgate-ulaw'],
    ['voxgate-ulaw', 'voxgate-ulaw@before'],
    ['voxgate-pcm16', 'voxgate-pcm16@before'],
  ];
  const out: string[] = [];
  for (const [a, b] of pairs) {
    const ra = get(a);
    const rb = get(b);
    if (ra === undefined || rb === undefined) continue;
    const da = derive(run, ra);
    const db = derive(run, rb);
    const p99 =
      da.added === null || db.added === null ? '—' : `${ms(da.added.p99)} vs ${ms(db.added.p99)} ms`;
    out.push(
      `${a} / ${b}: CPU per call-s ${ratio(ra.sutCpuMsPerCallSecond, rb.sutCpuMsPerCallSecond)}` +
        `${roundRatios(ra, rb)}, ` +
        `RSS per call ${ratio(ra.sutRssPerCallKB, rb.sutRssPerCallKB)}, added p99 ${p99}`,
    );
  }
  return out.map((l) => `- ${l}`).join('\n');
}

/**
 * RSS per call as the least-squares slope of the window's mean RSS against calls, over the steps where every call
 * was up: a baseline the warm-up left behind cancels out (it can make one step read "below idle"). Null with
 * fewer than two such steps.
 */
function rssSlopeKB(rows: readonly Row[]): number | null {
  const points = rows
    .filter((r) => r.result.streaming === r.calls && r.rssMB.sut !== undefined)
    .map((r) => [r.calls, r.rssMB.sut! * 1024] as const);
  if (points.length < 2) return null;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return sxx > 0 ? sxy / sxx : null;
}

function cleanSummary(run: LoadRun): string {
  const lines = [
    '| system | highest clean step | what fails above it | RSS per call (slope over steps with every call up) |',
    '| --- | ---: | --- | ---: |',
  ];
  const why = (row: Row): string => {
    const d = derive(run, row);
    const reasons: string[] = [];
    if (d.added !== null && d.added.p99 > CLEAN_P99_MS) reasons.push(`p99 +${ms(d.added.p99)} ms`);
    if (row.result.framesLost > 0) reasons.push(`${row.result.framesLost} frames lost`);
    return [...reasons, ...d.notes].join(', ') || 'incomplete';
  };
  for (const s of run.systems) {
    if (s.baseline === null) continue;
    const rows = run.rows.filter((r) => r.system === s.name).sort((a, b) => a.calls - b.calls);
    const clean = rows.filter((r) => derive(run, r).clean);
    const best = clean.length === 0 ? 0 : clean[clean.length - 1]!.calls;
    const above = rows.find((r) => r.calls > best && !derive(run, r).clean);
    let failure =
      above === undefined ? 'nothing: clean at every step run' : `at ${above.calls}: ${why(above)}`;
    const below = rows.filter((r) => r.calls < best && !derive(run, r).clean);
    if (below.length > 0)
      failure += `; also not clean at ${below.map((r) => `${r.calls} (${why(r)})`).join(', ')}`;
    if (s.gaveUpAt !== undefined) failure += `; not run above ${s.gaveUpAt} (overloaded there)`;
    const slope = rssSlopeKB(rows);
    const rss = slope === null ? '—' : `${slope.toFixed(0)} KB`;
    lines.push(`| ${s.name} | ${best === 0 ? 'none' : best} | ${failure} | ${rss} |`);
  }
  return lines.join('\n');
}

export function renderMarkdown(run: LoadRun, options: { title?: string; plot?: boolean } = {}): string {
  const parts = [
    options.title ?? '## Load (bench/load)',
    '',
    `Generated by \`${run.command}\` (\`bench/load/run.ts\`) on ${run.startedAt.slice(0, 10)}, ${run.durationS} s; ` +
      `raw results in \`bench/results/\`. **Machine:** ${machine()}; load average at the end ${(run.loadAvgEnd ?? loadavg()[0]!).toFixed(2)} ` +
      '(shared: only ratios within this run mean anything).',
    '',
    `Each step holds N calls for ${run.holdMs / 1000} s after ${run.warmupMs / 1000} s of warm-up` +
      `${(run.rounds ?? 1) > 1 ? `, ${run.rounds} rounds interleaved with the other systems (merged)` : ''}; every caller sends 20 ms ` +
      'frames in real time and reads what comes back. Systems:',
    '',
    ...run.systems.map((s) => `- **${s.name}**: ${s.description}`),
    '',
    'Columns: *SUT CPU* is the system process (user + system, /proc) over the window; *CPU ms per call-s* divides it by ' +
      'calls × seconds, and each ratio line gives the spread of its round-by-round ratios; *RSS per call* is (mean RSS in ' +
      'the window − RSS idle after the warm-up) / calls ("below idle" when a GC had shrunk the heap since); *added* is each round-trip quantile ' +
      "minus the direct path's same quantile at the same step (mu-law: a sequence marker in each frame; PCM16: tone-burst " +
      'onsets, one per 200 ms); *lost* counts frames sent in the window that had not come back once the echoes stopped ' +
      '(300 ms without audio after the callers stopped sending, at most 4 s: a standing queue is latency, not loss); ' +
      '*late* counts frames ' +
      `over the direct median + ${LATE_MS} ms; *setup* is POST /call (or the WebSocket connect) to the call's first frame at ` +
      'the echo server. Generator and echo CPU are the other two processes; *load* is the 1-minute load average at the ' +
      `end of the window (${availableParallelism()} cores; the benchmark's own three processes count in it). voxgate paces ` +
      'provider audio to the caller on one 20 ms clock with a 3-frame lead: a frame leaves as it arrives while the ' +
      'caller is within the lead, but audio that arrives more than 200 ms late (a stall of voxgate itself) is paced, ' +
      'so on a continuous stream such a stall stays as added latency until the provider pauses; the floor and the peer ' +
      'forward everything at once.',
    '',
  ];
  for (const calls of run.steps) {
    parts.push(`### ${calls} calls`, '', stepTable(run, calls), '', ratios(run, calls), '');
  }
  parts.push(
    `### Highest clean step (p99 added ≤ ${CLEAN_P99_MS} ms, no frame lost, every call up)`,
    '',
    cleanSummary(run),
    '',
  );
  if (options.plot !== false)
    parts.push(
      '![p99 added latency and CPU per call-second against concurrency](bench/results/load.svg)',
      '',
    );
  return parts.join('\n');
}

/** Replaces (or appends) a load section of BENCHMARKS.md (`<!-- <marker>:begin -->` … `end`), keeping the rest. */
export function updateBenchmarks(path: string, md: string, jsonPath: string, marker = 'load'): void {
  const BEGIN = `<!-- ${marker}:begin -->`;
  const END = `<!-- ${marker}:end -->`;
  let doc = '';
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  const section = `${BEGIN}\n${md.replace('raw results in `bench/results/`', `raw results in \`${jsonPath}\``)}\n${END}\n`;
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  doc =
    a >= 0 && b > a
      ? doc.slice(0, a) + section + doc.slice(b + END.length + 1)
      : `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(path, doc);
}

const COLORS: Record<string, string> = {
  floor: '#777777',
  'voxgate-ulaw': '#1f6fd1',
  'voxgate-pcm16': '#14a39a',
  peer: '#e07b10',
  'voxgate-ulaw@before': '#9bbbe8',
  'voxgate-pcm16@before': '#8fd3ce',
};

/** Two panels: p99 added latency (log scale) and SUT CPU ms per call-second, against calls. */
export function renderSvg(run: LoadRun): string {
  const W = 960;
  const H = 380;
  const names = run.systems.filter((s) => s.baseline !== null).map((s) => s.name);
  const maxCalls = Math.max(...run.steps);
  const panel = (
    x0: number,
    title: string,
    value: (r: Row) => number | null,
    log: boolean,
    ref?: number,
  ): string => {
    const pw = 380;
    const ph = 260;
    const top = 50;
    const vals = run.rows.map(value).filter((v): v is number => v !== null && Number.isFinite(v));
    const lo = log ? 0.1 : 0;
    const hi = Math.max(log ? 20 : 1, ...vals) * 1.1;
    const y = (v: number): number => {
      const c = Math.max(lo, v);
      const t = log
        ? (Math.log10(c) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
        : (c - lo) / (hi - lo);
      return top + ph - t * ph;
    };
    const x = (calls: number): number => x0 + (calls / maxCalls) * pw;
    let s = `<text x="${x0 + pw / 2}" y="28" text-anchor="middle" font-size="14">${title}</text>`;
    s += `<line x1="${x0}" y1="${top + ph}" x2="${x0 + pw}" y2="${top + ph}" stroke="#000"/><line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + ph}" stroke="#000"/>`;
    const ticks = log
      ? [0.1, 1, 10, 100, 1000, 10000].filter((t) => t <= hi)
      : [0, hi / 4, hi / 2, (3 * hi) / 4, hi];
    for (const t of ticks) {
      s += `<line x1="${x0 - 4}" y1="${y(t)}" x2="${x0 + pw}" y2="${y(t)}" stroke="#ddd"/><text x="${x0 - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${log ? t : t.toFixed(1)}</text>`;
    }
    for (const c of run.steps)
      s += `<text x="${x(c)}" y="${top + ph + 16}" text-anchor="middle" font-size="11">${c}</text>`;
    s += `<text x="${x0 + pw / 2}" y="${top + ph + 34}" text-anchor="middle" font-size="12">concurrent calls</text>`;
    if (ref !== undefined)
      s += `<line x1="${x0}" y1="${y(ref)}" x2="${x0 + pw}" y2="${y(ref)}" stroke="#c00" stroke-dasharray="4 3"/><text x="${x0 + pw - 2}" y="${y(ref) - 4}" text-anchor="end" font-size="10" fill="#c00">${ref} ms</text>`;
    for (const name of names) {
      const pts = run.rows
        .filter((r) => r.system === name)
        .map((r) => [r.calls, value(r)] as const)
        .filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]))
        .sort((a, b) => a[0] - b[0]);
      if (pts.length === 0) continue;
      const color = COLORS[name] ?? '#333';
      const dash = name.includes('@before') ? ' stroke-dasharray="5 3"' : '';
      s += `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([c, v]) => `${x(c).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
      for (const [c, v] of pts)
        s += `<circle cx="${x(c).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`;
    }
    return s;
  };
  const p99 = (r: Row): number | null => derive(run, r).added?.p99 ?? null;
  let body = panel(70, 'p99 added latency per frame (ms, log scale)', p99, true, CLEAN_P99_MS);
  body += panel(530, 'system CPU per call-second (ms)', (r) => r.sutCpuMsPerCallSecond, false);
  names.forEach((name, i) => {
    const lx = 70 + i * 145;
    body += `<rect x="${lx}" y="${H - 22}" width="14" height="4" fill="${COLORS[name] ?? '#333'}"/><text x="${lx + 18}" y="${H - 16}" font-size="11">${name}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`;
}

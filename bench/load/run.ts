/**
 * The load benchmark (`npm run bench:load`): N concurrent calls against the floor (a raw relay), voxgate (mu-law
 * passthrough and PCM16 16 kHz resampled) and the agents-js Twilio peer, all bridged to the same local OpenAI
 * Realtime echo server, plus direct connections to the echo server as the latency baseline, in one run.
 *
 * Steps of concurrency run in ascending order; within a step every system runs in turn (interleaved, so a noisy
 * neighbour hits all of them alike). Per step and system: CPU of each process from /proc over the measurement
 * window, RSS, round trip per frame, frames lost and late, call setup time (POST or connect → first frame at the
 * echo server). `report.ts` turns the rows into BENCHMARKS.md's section, a plot and the raw JSON.
 *
 *   npm run bench:load                       full run (~17 min): steps 50 100 250 500 750 1000, 2 rounds of 7 s
 *   npm run bench:load -- --quick            under two minutes: steps 50 200, 4 s held; prints, writes nothing
 *   options: --steps 50,100 --hold S --warmup S --rounds N --systems a,b --cpu-prof DIR --no-write
 *            --before DIR (voxgate from a copy of the repo as `voxgate-…@before`), --variant NAME=DIR (same, any
 *            name), --section ab (write the before/after section of BENCHMARKS.md instead of the main one)
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile, type StepResult, type StepSpec } from './common.js';
import { mergeResults } from './merge.js';
import { processRssBytes, rssSampler, snapshot } from './procstat.js';
import { type Profile, renderSummary, summarise } from './profile.js';
import { AB_TITLE, type LoadRun, type Row, renderMarkdown, renderSvg, updateBenchmarks } from './report.js';
import {
  allSystems,
  LOG_DIR,
  type Proc,
  REPO,
  type SystemDef,
  startEcho,
  startGenerator,
} from './systems.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    steps: { type: 'string' },
    hold: { type: 'string' },
    warmup: { type: 'string' },
    systems: { type: 'string' },
    before: { type: 'string' },
    variant: { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'no-write': { type: 'boolean' },
    rounds: { type: 'string' },
    section: { type: 'string' },
  },
});

const quick = flags.quick === true;
const steps = (flags.steps ?? (quick ? '50,200' : '50,100,250,500,750,1000')).split(',').map(Number);
const holdMs = Number(flags.hold ?? (quick ? 4 : 7)) * 1000;
const warmupMs = Number(flags.warmup ?? (quick ? 1 : 2)) * 1000;
const graceMs = quick ? 500 : 1000;
// Two interleaved rounds by default: on a shared machine one window of a system can land on a noisy moment that
// its neighbour's window missed; a second pass shows it (the report gives the round-by-round CPU ratios).
const rounds = Number(flags.rounds ?? (quick ? 1 : 2));
const write = !quick && flags['no-write'] !== true;
const profDir = flags['cpu-prof'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const variants: Record<string, string> = {};
if (flags.before !== undefined) variants.before = flags.before;
for (const v of flags.variant ?? []) {
  const at = v.indexOf('=');
  if (at > 0) variants[v.slice(0, at)] = v.slice(at + 1);
}
const systems = allSystems({
  variants,
  ...(flags['cpu-prof'] === undefined ? {} : { cpuProfDir: flags['cpu-prof'] }),
}).filter((s) => flags.systems === undefined || flags.systems.split(',').includes(s.name));

const log = (line: string): void => {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** One step of one system through the generator, with the process samples around its window. */
function runOnGenerator(gen: Proc, spec: StepSpec, pids: Record<string, number>) {
  return new Promise<{
    result: StepResult;
    cpu: Record<string, number>;
    machineBusyMs: number;
    rss: ReturnType<ReturnType<typeof rssSampler>>;
    monoUs: [number, number];
    rampUs: [number, number];
    load1: number;
  }>((resolve, reject) => {
    const monoUs: [number, number] = [0, 0];
    const rampUs: [number, number] = [0, 0];
    const mono = (): number => Number(process.hrtime.bigint() / 1000n);
    let before: ReturnType<typeof snapshot> | null = null;
    let cpu: Record<string, number> = {};
    let machineBusyMs = 0;
    let load1 = 0;
    let stopRss: (() => ReturnType<ReturnType<typeof rssSampler>>) | null = null;
    let rss: ReturnType<ReturnType<typeof rssSampler>> = {};
    const onMessage = (m: {
      type: string;
      phase?: string;
      line?: string;
      result?: StepResult;
      message?: string;
    }): void => {
      if (m.type === 'log') log(`  ${m.line}`);
      else if (m.type === 'window' && m.phase === 'ramp-start') rampUs[0] = mono();
      else if (m.type === 'window' && m.phase === 'ramp-end') rampUs[1] = mono();
      else if (m.type === 'window' && m.phase === 'start') {
        monoUs[0] = Number(process.hrtime.bigint() / 1000n);
        before = snapshot(pids);
        stopRss = rssSampler(pids);
      } else if (m.type === 'window' && m.phase === 'end' && before !== null) {
        monoUs[1] = Number(process.hrtime.bigint() / 1000n);
        const after = snapshot(pids);
        for (const name of Object.keys(pids)) cpu[name] = after.cpu[name]! - before.cpu[name]!;
        machineBusyMs = after.machine.busy - before.machine.busy;
        rss = stopRss?.() ?? {};
        load1 = loadavg()[0]!;
      } else if (m.type === 'result') {
        gen.child.off('message', onMessage);
        resolve({ result: m.result!, cpu, machineBusyMs, rss, monoUs, rampUs, load1 });
      } else if (m.type === 'error') {
        gen.child.off('message', onMessage);
        reject(new Error(m.message));
      }
    };
    cpu = {};
    gen.child.on('message', onMessage);
    gen.child.send({ cmd: 'step', spec });
  });
}

async function echoFirstFrames(
  httpUrl: string,
): Promise<{ firstFrames: Record<string, number>; open: number }> {
  const res = await fetch(`${httpUrl}/bench/first-frames`);
  return (await res.json()) as { firstFrames: Record<string, number>; open: number };
}

function setupTimes(result: StepResult, firstFrames: Record<string, number>): number[] {
  const times: number[] = [];
  for (const [tag, start] of Object.entries(result.setupStart)) {
    const first = firstFrames[tag];
    if (first !== undefined) times.push(first - start);
  }
  return times;
}

/** One step of one system, one round. */
interface Measured {
  result: StepResult;
  cpuMs: Record<string, number>;
  machineBusyMs: number;
  /** The 1-minute load average at the window's end (the machine is shared). */
  load1: number;
  rss: Record<string, { mean: number; max: number }>;
  setup: number[];
}

/** Merges the rounds of one system at one step into the row the report reads. */
function toRow(s: Running, calls: number, rounds: Measured[]): Row {
  const result = mergeResults(rounds.map((m) => m.result));
  const windowMs = result.windowMs;
  const cpuMs: Record<string, number> = {};
  for (const m of rounds) for (const [k, v] of Object.entries(m.cpuMs)) cpuMs[k] = (cpuMs[k] ?? 0) + v;
  const rssMean = (name: string): number | undefined => {
    const v = rounds.map((m) => m.rss[name]?.mean).filter((x): x is number => x !== undefined);
    return v.length === 0 ? undefined : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const setup = rounds.flatMap((m) => m.setup).sort((a, b) => a - b);
  const q = (p: number): number =>
    setup[Math.min(setup.length - 1, Math.ceil(p * setup.length) - 1)] ?? Number.NaN;
  const sutRss = rssMean('sut');
  const perRoundCalls = Math.max(1, result.streaming);
  return {
    system: s.def.name,
    baseline: s.def.baseline,
    calls,
    result,
    setupMs: { n: setup.length, p50: q(0.5), p95: q(0.95), max: setup[setup.length - 1] ?? Number.NaN },
    cpuPct: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, (v / windowMs) * 100])),
    machinePct: (rounds.reduce((a, m) => a + m.machineBusyMs, 0) / windowMs) * 100,
    loadAvg: Math.max(...rounds.map((m) => m.load1)),
    sutCpuMsPerCallSecond: cpuMs.sut === undefined ? null : cpuMs.sut / (perRoundCalls * (windowMs / 1000)),
    rssMB: Object.fromEntries(
      ['loadgen', 'echo', 'sut'].flatMap((k) =>
        rssMean(k) === undefined ? [] : [[k, rssMean(k)! / 2 ** 20]],
      ),
    ),
    sutRssPerCallKB: sutRss === undefined ? null : (sutRss - s.idleRss) / 1024 / perRoundCalls,
    sutIdleRssMB: s.proc === null ? null : s.idleRss / 2 ** 20,
    rounds: rounds.map((m) => ({
      windowMs: m.result.windowMs,
      sutCpuPct: m.cpuMs.sut === undefined ? null : (m.cpuMs.sut / m.result.windowMs) * 100,
      machinePct: (m.machineBusyMs / m.result.windowMs) * 100,
      loadAvg: m.load1,
      rttP50: quantile(m.result.rtt, 0.5),
      rttP99: quantile(m.result.rtt, 0.99),
      framesLost: m.result.framesLost,
    })),
  };
}

interface Running {
  def: SystemDef;
  proc: Proc | null;
  target: Awaited<ReturnType<SystemDef['start']>>['target'];
  idleRss: number;
}

/** A short unmeasured step per system (JIT, pools, first GCs), then RSS once it has settled: the idle baseline. */
async function warmUp(gen: Proc, running: Map<string, Running>): Promise<void> {
  for (const s of running.values()) {
    const spec: StepSpec = {
      target: s.target,
      calls: 20,
      rampMs: 200,
      warmupMs: 500,
      holdMs: quick ? 500 : 2000,
      graceMs: 200,
      tagPrefix: `warm-${s.def.name}`,
    };
    await runOnGenerator(gen, spec, { loadgen: gen.pid });
  }
  const deadline = performance.now() + (quick ? 2000 : 15_000);
  const last = new Map<string, number>();
  for (;;) {
    await sleep(1000);
    let settled = true;
    for (const s of running.values()) {
      if (s.proc === null) continue;
      const rss = processRssBytes(s.proc.pid);
      if (Math.abs(rss - (last.get(s.def.name) ?? 0)) > 256 * 1024) settled = false;
      last.set(s.def.name, rss);
      s.idleRss = rss;
    }
    if (settled || performance.now() > deadline) break;
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  log(
    `load run: steps ${steps.join(', ')}; ${holdMs / 1000} s held; systems ${systems.map((s) => s.name).join(', ')}`,
  );
  const echo = await startEcho();
  const gen = await startGenerator();
  const running = new Map<string, Running>();
  const rows: Row[] = [];
  const windows = new Map<string, [number, number][]>();
  const ramps = new Map<string, [number, number][]>();
  const gaveUp = new Map<string, number>();
  try {
    for (const def of systems) {
      const { proc, target } = await def.start(echo);
      running.set(def.name, { def, proc, target, idleRss: Number.NaN });
      log(`started ${def.name}${proc === null ? '' : ` (pid ${proc.pid})`}`);
    }
    await warmUp(gen, running);
    log(
      `warmed up; idle RSS ${[...running.values()]
        .filter((s) => s.proc !== null)
        .map((s) => `${s.def.name} ${(s.idleRss / 2 ** 20).toFixed(0)} MB`)
        .join(', ')}`,
    );
    let uid = 0;
    for (const calls of steps) {
      const measured = new Map<string, Measured[]>();
      for (let round = 0; round < rounds; round++) {
        for (const s of running.values()) {
          if (gaveUp.has(s.def.name)) continue;
          const pids: Record<string, number> = { loadgen: gen.pid, echo: echo.proc.pid };
          if (s.proc !== null) pids.sut = s.proc.pid;
          const spec: StepSpec = {
            target: s.target,
            calls,
            rampMs: Math.max(500, calls * (quick ? 4 : 8)),
            warmupMs,
            holdMs,
            graceMs,
            tagPrefix: `bench-${uid++}`,
          };
          const { result, cpu, machineBusyMs, rss, monoUs, rampUs, load1 } = await runOnGenerator(
            gen,
            spec,
            pids,
          );
          const first = await echoFirstFrames(echo.httpUrl);
          if (s.proc !== null) {
            windows.set(s.def.name, [...(windows.get(s.def.name) ?? []), monoUs]);
            ramps.set(s.def.name, [...(ramps.get(s.def.name) ?? []), rampUs]);
          }
          const m: Measured = {
            result,
            cpuMs: cpu,
            machineBusyMs,
            load1,
            rss,
            setup: setupTimes(result, first.firstFrames),
          };
          measured.set(s.def.name, [...(measured.get(s.def.name) ?? []), m]);
          log(
            `  ${s.def.name} ${calls}${rounds > 1 ? ` (round ${round + 1})` : ''}: rtt p50 ${fmt(result.rtt)}` +
              ` lost ${result.framesLost}/${result.framesSent}` +
              ` cpu ${Object.entries(cpu)
                .map(([k, v]) => `${k} ${((v / result.windowMs) * 100).toFixed(0)}%`)
                .join(' ')}` +
              ` load ${load1.toFixed(1)}`,
          );
          // Let the system release the calls before the next one runs.
          for (let i = 0; i < 50 && (await echoFirstFrames(echo.httpUrl)).open > 0; i++) await sleep(100);
          await sleep(quick ? 300 : 1000);
        }
      }
      for (const s of running.values()) {
        const m = measured.get(s.def.name);
        if (m === undefined) continue;
        const row = toRow(s, calls, m);
        rows.push(row);
        // A system that has clearly fallen over is not pushed harder: the run stays within its time budget.
        const r = row.result;
        if (r.setupFailures > calls * 0.2 || r.streaming < calls * 0.5 || quantile(r.rtt, 0.5) > 2000) {
          gaveUp.set(s.def.name, calls);
          log(`  ${s.def.name} is overloaded at ${calls} calls: not run at higher steps`);
        }
      }
    }
  } finally {
    for (const s of running.values()) await s.proc?.stop();
    gen.child.send({ cmd: 'exit' });
    await gen.stop();
    await echo.proc.stop();
  }
  const run: LoadRun = {
    startedAt: startedAt.toISOString(),
    loadAvgEnd: loadavg()[0]!,
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    command: `npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    steps,
    holdMs,
    warmupMs,
    rounds,
    systems: systems.map((s) => ({
      name: s.name,
      description: s.description,
      baseline: s.baseline,
      ...(gaveUp.has(s.name) ? { gaveUpAt: gaveUp.get(s.name) } : {}),
    })),
    rows,
  };
  const ab = flags.section === 'ab';
  const md = renderMarkdown(run, ab ? { title: AB_TITLE, plot: false } : {});
  process.stdout.write(`\n${md}\n`);
  if (profDir !== undefined)
    writeProfiles(running, windows, ramps, write ? join(REPO, 'bench/results') : LOG_DIR);
  if (!write) {
    const tmp = join(LOG_DIR, 'load-quick.json');
    writeFileSync(tmp, JSON.stringify(run, null, 1));
    log(`raw results: ${tmp} (this run does not touch BENCHMARKS.md)`);
    return;
  }
  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  const json = `bench/results/load${ab ? '-ab' : ''}-${stamp}.json`;
  writeFileSync(join(REPO, json), JSON.stringify(run));
  if (!ab) writeFileSync(join(dir, 'load.svg'), renderSvg(run));
  updateBenchmarks(join(REPO, 'BENCHMARKS.md'), md, json, ab ? 'load-ab' : 'load');
  log(`wrote ${json}${ab ? '' : ', bench/results/load.svg'} and BENCHMARKS.md`);
}

/** Summarises each system's main-thread CPU profile over its measurement windows, all steps and each step. */
function writeProfiles(
  running: Map<string, Running>,
  windows: Map<string, [number, number][]>,
  ramps: Map<string, [number, number][]>,
  dir: string,
): void {
  const files = readdirSync(profDir!).filter((f) => f.endsWith('.cpuprofile'));
  mkdirSync(dir, { recursive: true });
  for (const s of running.values()) {
    const pid = s.proc?.pid;
    const file = files.find((f) => f.split('.')[3] === String(pid) && f.split('.')[4] === '0');
    const spans = windows.get(s.def.name);
    if (file === undefined || spans === undefined) continue;
    const profile = JSON.parse(readFileSync(join(profDir!, file), 'utf8')) as Profile;
    const parts = [`# CPU profile: ${s.def.name}, measurement windows only\n`];
    parts.push(`## All steps (${steps.join(', ')})\n\n${renderSummary(summarise(profile, 30, spans))}\n`);
    const setup = ramps.get(s.def.name);
    if (setup !== undefined)
      parts.push(
        `## Call setup (the ramps: calls being created while earlier ones stream)\n\n${renderSummary(summarise(profile, 25, setup))}\n`,
      );
    steps.forEach((calls, i) => {
      const span = spans[i];
      if (span !== undefined && steps.length > 1)
        parts.push(`## ${calls} calls\n\n${renderSummary(summarise(profile, 20, [span]))}\n`);
    });
    const out = join(dir, `profile-${s.def.name.replace('@', '-')}.md`);
    writeFileSync(out, parts.join('\n'));
    log(`profile of ${s.def.name}: ${out}`);
  }
}

function fmt(h: StepResult['rtt']): string {
  return h.n === 0 ? 'n/a' : `${quantile(h, 0.5).toFixed(2)} ms`;
}

await main();

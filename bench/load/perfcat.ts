/**
 * CPU time by kind of work, from Linux `perf` samples of whole processes (kernel included): where a V8 profile
 * samples wall time, `perf record -e cpu-clock` samples CPU time, so this is the split behind /proc's totals.
 *
 *   NODE_OPTIONS=--perf-basic-prof npm run bench:load -- --steps 250 --hold 15 --rounds 1 --no-write \
 *     --systems floor,voxgate-ulaw &                  # note the pids it prints ("started floor (pid N)")
 *   perf record -e cpu-clock -F 997 -a -g -o /tmp/perf.data -- sleep 48
 *   perf script -i /tmp/perf.data -F pid,ip,sym > /tmp/perf.txt
 *   node --import tsx bench/load/perfcat.ts /tmp/perf.txt FLOOR_PID,VOXGATE_PID [--hz 997]
 *
 * Prints a markdown table: samples converted to ms per category, one column per pid, and the difference of the
 * last pid from the first. `--perf-basic-prof` names the JIT frames, so JavaScript splits by source.
 */
import { readFileSync } from 'node:fs';

type Frame = { kernel: boolean; sym: string };

const WAKE = new Set(['sock_def_readable', 'try_to_wake_up', 'ep_poll_callback']);

/** The kind of work one sample (a stack, leaf first) was doing. */
export function classify(stack: readonly Frame[]): string {
  const leaf = stack[0]!;
  const syms = stack.map((f) => f.sym);
  if (leaf.kernel) {
    if (syms.slice(0, 8).some((s) => WAKE.has(s))) return 'kernel: waking the peer process';
    if (syms.some((s) => s.includes('epoll'))) return 'kernel: epoll_wait';
    if (syms.some((s) => s.startsWith('tcp_sendmsg') || s === 'sock_write_iter')) return 'kernel: send';
    if (syms.some((s) => s === 'tcp_recvmsg' || s === 'sock_read_iter')) return 'kernel: receive';
    return 'kernel: other';
  }
  const s = leaf.sym;
  if (/Scaveng|MarkCompact|ConcurrentMarking|Sweeper|Marking|Heap::|Evacuat/.test(s)) return 'V8: GC';
  if (/Json(Parse|Stringif)/.test(s)) return 'V8: JSON';
  if (/base64|StringBytes|StringWrite/i.test(s)) return 'node: base64 and strings';
  if (s.startsWith('Builtins_') && s.includes('IC')) return 'V8: property-access ICs';
  if (s.startsWith('JS:')) {
    if (s.includes('/src/')) return 'JS: voxgate (src/)';
    if (s.includes('node_modules/ws/')) return 'JS: ws';
    if (s.includes('node:')) return 'JS: node core (streams, net, events)';
    return 'JS: other';
  }
  if (s.startsWith('Builtins_')) return 'V8: other builtins';
  if (s.includes('node::') || s.startsWith('uv_') || s.startsWith('uv__')) return 'node and libuv (C++)';
  return 'other native (malloc, V8 runtime)';
}

/** Samples per pid and category from `perf script -F pid,ip,sym` output (stacks recorded with -g). */
export function categorise(text: string, pids: readonly string[]): Map<string, Map<string, number>> {
  const out = new Map(pids.map((p) => [p, new Map<string, number>()]));
  let pid: string | null = null;
  let stack: Frame[] = [];
  const flush = (): void => {
    const counts = pid === null ? undefined : out.get(pid);
    if (counts !== undefined && stack.length > 0) {
      const kind = classify(stack);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    pid = null;
    stack = [];
  };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === '') flush();
    else if (stack.length === 0 && pid === null && fields.length === 1) pid = fields[0]!;
    else if (pid !== null) {
      const [ip = '', ...name] = fields;
      stack.push({ kernel: ip.startsWith('ffffffff'), sym: name.join(' ') });
    }
  }
  flush();
  return out;
}

function main(): void {
  const [file, pidList] = process.argv.slice(2);
  if (file === undefined || pidList === undefined) {
    throw new Error('usage: perfcat.ts PERF_SCRIPT_OUTPUT PID,PID [--hz 997]');
  }
  const hzAt = process.argv.indexOf('--hz');
  const msPerSample = 1000 / Number(hzAt > 0 ? process.argv[hzAt + 1] : 997);
  const pids = pidList.split(',');
  const counts = categorise(readFileSync(file, 'utf8'), pids);
  const first = counts.get(pids[0]!)!;
  const last = counts.get(pids[pids.length - 1]!)!;
  const kinds = [...new Set(pids.flatMap((p) => [...counts.get(p)!.keys()]))].sort(
    (a, b) => (last.get(b) ?? 0) - (first.get(b) ?? 0) - ((last.get(a) ?? 0) - (first.get(a) ?? 0)),
  );
  const ms = (n: number): string => (n * msPerSample).toFixed(0);
  const row = (name: string, values: number[]): string =>
    `| ${name} | ${values.map(ms).join(' | ')} | ${values.at(-1)! - values[0]! >= 0 ? '+' : ''}${ms(values.at(-1)! - values[0]!)} |`;
  const lines = [`| kind of work | ${pids.map((p) => `pid ${p} (ms)`).join(' | ')} | difference |`];
  lines.push(`| --- | ${pids.map(() => '---:').join(' | ')} | ---: |`);
  for (const kind of kinds)
    lines.push(
      row(
        kind,
        pids.map((p) => counts.get(p)!.get(kind) ?? 0),
      ),
    );
  const totals = pids.map((p) => [...counts.get(p)!.values()].reduce((a, b) => a + b, 0));
  lines.push(row('**total**', totals));
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();

/**
 * Re-renders BENCHMARKS.md's load section (and the plot) from a saved run, without running anything:
 *
 *   node --import tsx bench/load/render.ts bench/results/load-<stamp>.json            main section + load.svg
 *   node --import tsx bench/load/render.ts bench/results/load-ab-<stamp>.json --ab    the before/after section
 *
 * Older files (uniform 0.05 ms histogram buckets, pretty-printed) are rewritten in the current compact form.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { upgradeHistogram } from './common.js';
import { AB_TITLE, type LoadRun, renderMarkdown, renderSvg, updateBenchmarks } from './report.js';
import { REPO } from './systems.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: render.ts <run.json> [--ab]');
const ab = process.argv.includes('--ab');
const run = JSON.parse(readFileSync(file, 'utf8')) as LoadRun;
for (const row of run.rows) {
  row.result.rtt = upgradeHistogram(row.result.rtt);
  row.loadAvg ??= 0;
}
writeFileSync(file, JSON.stringify(run));
const md = renderMarkdown(run, ab ? { title: AB_TITLE, plot: false } : {});
const rel = relative(REPO, join(process.cwd(), file));
updateBenchmarks(join(REPO, 'BENCHMARKS.md'), md, rel, ab ? 'load-ab' : 'load');
if (!ab) writeFileSync(join(REPO, 'bench/results/load.svg'), renderSvg(run));
process.stdout.write(`rendered ${rel} into BENCHMARKS.md${ab ? '' : ' and bench/results/load.svg'}\n`);

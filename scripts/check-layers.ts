/**
 * Fails when an import points up DESIGN.md's layer table or when src/ has an import cycle.
 * Run by `npm run check`. Type-only imports count too: a cycle of types is still a knot for the reader.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

/** Who may import whom (DESIGN.md). `errors.ts` and `log.ts` at src/ are leaves every layer may use. */
const allowed: Record<string, string[]> = {
  media: [],
  graph: ['media'],
  transports: ['media', 'graph'],
  connectors: ['media', 'graph'],
  agent: ['media'],
  emulators: ['media', 'agent'],
  scenario: ['media', 'graph', 'transports', 'connectors'],
  server: ['media', 'graph', 'transports', 'connectors', 'scenario', 'agent', 'emulators'],
  cli: ['*'],
  '.': ['*'],
};
const leaves = new Set(['errors.ts', 'log.ts']);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(src, file);
  return rel.includes('/') ? rel.split('/')[0]! : '.';
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

const files = walk(src);
const graph = new Map<string, string[]>();
const problems: string[] = [];

for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(importRe)) {
    const spec = (m[1] ?? m[2])!;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    deps.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    const rule = allowed[from];
    if (rule === undefined) {
      problems.push(
        `${relative(root, file)}: folder src/${from} is not in the layer table (scripts/check-layers.ts)`,
      );
      continue;
    }
    const ok =
      from === to ||
      rule.includes('*') ||
      rule.includes(to) ||
      (to === '.' && leaves.has(relative(src, target)));
    if (!ok)
      problems.push(
        `${relative(root, file)} imports ${relative(root, target)}: src/${from} may not import src/${to}`,
      );
  }
  graph.set(file, deps);
}

// Cycle search: depth-first with colours; report each cycle once by its path.
const colour = new Map<string, 'grey' | 'black'>();
const stack: string[] = [];
function visit(node: string): void {
  colour.set(node, 'grey');
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    const c = colour.get(dep);
    if (c === 'grey') {
      const cycle = stack.slice(stack.indexOf(dep)).concat(dep);
      problems.push(`import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`);
    } else if (c === undefined && graph.has(dep)) visit(dep);
  }
  stack.pop();
  colour.set(node, 'black');
}
for (const file of files) if (!colour.has(file)) visit(file);

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`layers ok: ${files.length} files, imports point down, no cycles\n`);

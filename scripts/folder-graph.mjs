#!/usr/bin/env node
// Prints the library's folder-level import graph (top-level folders of libs/task-queue/src, and each
// root file on its own) and exits 1 if the folders form a cycle. Type-only imports count: a type cycle
// is still a cycle a reader has to untangle. Unit specs are left out (they may reach across layers).
// Usage: node scripts/folder-graph.mjs [srcDir]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const src = resolve(process.argv[2] ?? 'libs/task-queue/src');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The node a file belongs to: its top-level folder, or the file's own name for root files. */
function nodeOf(file) {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '');
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const edges = new Map(); // from -> Map(to -> example file)
const fileEdges = new Map(); // file -> Map(file -> importing file)
const nodes = new Set();
for (const file of walk(src)) {
  const from = nodeOf(file);
  if (from === 'index') continue; // the public barrel sits above everything
  nodes.add(from);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src)) continue;
    const toFile = existsSync(`${target}.ts`)
      ? `${target}.ts`
      : existsSync(join(target, 'index.ts'))
        ? join(target, 'index.ts')
        : target;
    const fromRel = relative(src, file);
    if (!fileEdges.has(fromRel)) fileEdges.set(fromRel, new Map());
    fileEdges.get(fromRel).set(relative(src, toFile), fromRel);
    const to = nodeOf(toFile);
    if (to === from) continue;
    nodes.add(to);
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, relative(src, file));
  }
}

const sorted = [...nodes].sort();
for (const n of sorted) {
  const outs = [...(edges.get(n)?.keys() ?? [])].sort();
  console.log(`${n} -> ${outs.length ? outs.join(', ') : '(nothing)'}`);
}

// Tarjan's strongly connected components: any component of more than one node is a cycle.
function cyclesOf(graph, all) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const found = [];
  function strong(v) {
    meta.set(v, { index, low: index, on: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!meta.has(w)) {
        strong(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).on) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low === meta.get(v).index) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).on = false;
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) found.push(comp.sort());
    }
  }
  for (const n of all) if (!meta.has(n)) strong(n);
  return found;
}

function report(title, cycles, graph) {
  console.error(`\n${title} (${cycles.length}):`);
  for (const comp of cycles) {
    console.error(`  ${comp.join(' <-> ')}`);
    for (const a of comp)
      for (const [b, file] of graph.get(a) ?? [])
        if (comp.includes(b)) console.error(`    ${a} -> ${b}  (e.g. ${file})`);
  }
}

const folderCycles = cyclesOf(edges, sorted);
const fileCycles = cyclesOf(fileEdges, [...fileEdges.keys()].sort());
if (folderCycles.length) report('Folder cycles', folderCycles, edges);
if (fileCycles.length) report('File cycles (type-only imports included)', fileCycles, fileEdges);
if (folderCycles.length || fileCycles.length) process.exit(1);
console.log('\nNo folder cycles, no file cycles.');

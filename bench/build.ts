/**
 * Transpiles the library and the benchmark's own processes (worker, client) to bench/.build, file by
 * file with ts.transpileModule and the repo's tsconfig options (the repo sets isolatedModules, so
 * this is what `ts-node --transpile-only` does, minus the compiler living in every process: a
 * worker started through ts-node carries TypeScript's ~50 MB in its RSS, which is not the library's).
 * No type check here: `npx tsc --noEmit -p tsconfig.json` does that.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

export const ROOT = join(__dirname, '..');
export const BUILD = join(__dirname, '.build');
/** Where `--against-rev` builds the other revision's library (with the same bench harness). */
export const AGAINST_BUILD = join(__dirname, '.build-against');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'results' && name !== 'node_modules') walk(p, out);
    } else if (p.endsWith('.ts') && !p.endsWith('.spec.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * `libRev` (flag --lib-rev <rev>): take the library from that git revision instead of the working
 * tree, so a run is reproducible and not broken by someone's half-saved edit in libs/.
 */
export function build(libRev?: string, out: string = BUILD): { files: number; ms: number; lib: string } {
  const t0 = Date.now();
  const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => readFileSync(p, 'utf8'));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...parsed.options,
    sourceMap: false,
    inlineSourceMap: false,
    declaration: false,
    incremental: false,
    noEmit: false,
    outDir: undefined,
  };
  rmSync(out, { recursive: true, force: true });
  const git = (...a: string[]) => execFileSync('git', ['-C', ROOT, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // With --lib-rev: one `git archive` of libs/task-queue/src into bench/.build/.src, read from there.
  const SRC = join(out, '.src');
  if (libRev) {
    mkdirSync(SRC, { recursive: true });
    execFileSync('bash', ['-c', `git -C "${ROOT}" archive "${libRev}" libs/task-queue/src | tar -x -C "${SRC}"`]);
  }
  const libFiles = walk(join(libRev ? SRC : ROOT, 'libs', 'task-queue', 'src'));
  const files = [
    ...libFiles,
    join(__dirname, 'worker.ts'),
    join(__dirname, 'client.ts'),
    join(__dirname, 'floor.ts'),
    join(__dirname, 'config.ts'),
    join(__dirname, 'lib', 'proc.ts'),
  ];
  for (const f of files) {
    const source = readFileSync(f, 'utf8');
    const js = ts.transpileModule(source, { compilerOptions, fileName: f }).outputText;
    const dest = join(out, relative(f.startsWith(SRC + '/') ? SRC : ROOT, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  // 'nestjs-celery' -> the transpiled library (what tsconfig-paths does for ts-node).
  writeFileSync(
    join(out, 'paths.js'),
    `'use strict';
const Module = require('module');
const path = require('path');
const LIB = path.join(__dirname, 'libs', 'task-queue', 'src');
const orig = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'nestjs-celery') request = LIB;
  else if (request.startsWith('nestjs-celery/internal/')) request = path.join(LIB, request.slice('nestjs-celery/internal/'.length));
  return orig.call(this, request, ...rest);
};
`,
  );
  return {
    files: files.length,
    ms: Date.now() - t0,
    lib: libRev ? `git ${git('rev-parse', '--short', libRev).trim()}` : 'working tree',
  };
}

if (require.main === module) console.log(build(process.argv[2]));

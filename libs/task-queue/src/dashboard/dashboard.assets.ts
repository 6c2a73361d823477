import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The page's own files (plain ES modules, no build step). */
const PUBLIC = join(__dirname, 'public');

/** Front-end libraries served from node_modules: preact (rendering, escapes all text) and htm (JSX-like templates without a compiler). */
const VENDOR: Record<string, [string, string]> = {
  'preact.mjs': ['preact', 'preact.mjs'],
  'hooks.mjs': ['preact/hooks', 'hooks.mjs'],
  'htm.mjs': ['htm', 'htm.mjs'],
};

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

export interface Asset {
  body: Buffer;
  type: string;
}

const cache = new Map<string, Asset>();

/** A file of the page by its name (`app.js`, `style.css`, `index.html`), or null. Names are checked against what exists: no path walking. */
export function publicAsset(name: string): Asset | null {
  if (!/^[a-z0-9-]+\.(js|css|html)$/.test(name)) return null;
  return load(`public:${name}`, () => join(PUBLIC, name), name);
}

export function vendorAsset(name: string): Asset | null {
  const v = VENDOR[name];
  if (!v) return null;
  // The ES module sits beside the package's main file (their `exports` maps hide the dist paths).
  return load(`vendor:${name}`, () => join(dirname(require.resolve(v[0])), v[1]), name);
}

function load(key: string, path: () => string, name: string): Asset | null {
  const hit = cache.get(key);
  if (hit) return hit;
  try {
    let body = readFileSync(path());
    // preact/hooks imports the bare name "preact": point it at our copy, so no import map (an inline script the CSP would refuse) is needed.
    if (key.startsWith('vendor:'))
      body = Buffer.from(body.toString('utf8').replace(/from\s*(["'])preact\1/g, 'from"./preact.mjs"'), 'utf8');
    const a = { body, type: TYPES[name.split('.').pop()!] ?? 'application/octet-stream' };
    cache.set(key, a);
    return a;
  } catch {
    return null;
  }
}

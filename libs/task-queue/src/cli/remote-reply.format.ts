import { repr } from '../protocol/py-repr';

/**
 * How `celery inspect` / `celery control` print one worker's reply (celery/bin/base.py `pretty`),
 * so that people and scripts reading Celery's output read ours the same way:
 * `{ok}` / `{error}` → the text; a list → `* item` lines (Python's str of each item) or `- empty -`;
 * another object → JSON with sorted keys, indented 4.
 */
export function prettyReply(reply: unknown): { status: 'OK' | 'ERROR'; body: string } {
  if (Array.isArray(reply))
    return {
      status: 'OK',
      body: reply.length ? reply.map((i) => `* ${typeof i === 'string' ? i : repr(i)}`).join('\n') : '- empty -',
    };
  if (reply !== null && typeof reply === 'object') {
    const o = reply as Record<string, unknown>;
    if ('ok' in o) return { status: 'OK', body: indent(prettyReply(o.ok).body, 4) };
    if ('error' in o) return { status: 'ERROR', body: indent(prettyReply(o.error).body, 4) };
    return { status: 'OK', body: JSON.stringify(sortKeys(o), null, 4) };
  }
  if (typeof reply === 'string') return { status: 'OK', body: reply };
  return { status: 'OK', body: repr(reply) };
}

/** `-> <node>: OK` and the reply indented below it, as Celery prints each reply it collects. */
export function formatNodeReply(node: string, reply: unknown): string {
  const { status, body } = prettyReply(reply);
  return body ? `-> ${node}: ${status}\n${indent(body, 4)}` : `-> ${node}: ${status}`;
}

/** `\n1 node online.` / `\n2 nodes online.` after `inspect` output. */
export function nodesOnline(n: number): string {
  return `\n${n} ${n === 1 ? 'node' : 'nodes'} online.`;
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Python's `json.dumps(sort_keys=True)`: keys sorted at every level. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v as Record<string, unknown>)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

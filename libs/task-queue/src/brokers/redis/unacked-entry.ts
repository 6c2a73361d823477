/**
 * kombu's `unacked` hash value, `[envelope, exchange, routing_key]` (celery-wire.md 3.6), and what
 * a restore pushes back: the envelope with `headers.redelivered` and
 * `properties.delivery_info.redelivered` set, as kombu's `_do_restore_message` does.
 */
export interface UnackedEntry {
  /** The item to push back to the queue. */
  restored: string;
  exchange: string;
  routingKey: string;
  /** The envelope's priority, to pick the bucket list (kombu >= 5.3 keeps it; 5.2 used the base list). */
  priority: unknown;
}

/** Integers JS numbers would round: such envelopes are restored by text edit, not re-serialized. */
const LONG_INTEGER = /(?<![\d.eE])-?\d{16,}(?![\d.eE])/;

/** Reads an unacked value. Returns null when it is not a kombu entry at all. */
export function parseUnackedEntry(value: string): UnackedEntry | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length < 3) return null;
  const [m, exchange, routingKey] = parsed as [unknown, unknown, unknown];
  if (typeof exchange !== 'string' || typeof routingKey !== 'string') return null;
  if (typeof m === 'string') return { restored: m, exchange, routingKey, priority: 0 };
  if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
  const env = m as Record<string, unknown>;
  // An item that was never an envelope, wrapped by the reserve script: give back the item itself.
  if (typeof env.taskq_raw === 'string' && env.body === undefined)
    return { restored: env.taskq_raw, exchange, routingKey, priority: 0 };
  const props = (env.properties && typeof env.properties === 'object' ? env.properties : {}) as Record<string, unknown>;
  return { restored: markRedeliveredText(value, env), exchange, routingKey, priority: props.priority };
}

function markRedeliveredText(entryText: string, env: Record<string, unknown>): string {
  if (!LONG_INTEGER.test(entryText)) {
    if (env.headers && typeof env.headers === 'object') (env.headers as Record<string, unknown>).redelivered = true;
    const props = env.properties as Record<string, unknown> | undefined;
    if (props && typeof props === 'object' && props.delivery_info && typeof props.delivery_info === 'object') {
      (props.delivery_info as Record<string, unknown>).redelivered = true;
    }
    return JSON.stringify(env);
  }
  // Keep the digits: cut the envelope text out of `[<envelope>, "ex", "rk"]` and edit it in place.
  let text = envelopeTextOf(entryText);
  text = text
    .replace(/("headers"\s*:\s*\{)/, '$1"redelivered": true, ')
    .replace(/("delivery_info"\s*:\s*\{)/, '$1"redelivered": true, ');
  return text.replace(/"redelivered": true, \}/g, '"redelivered": true}');
}

/** The first element of the entry array, as text (the envelope is a JSON object; strings are skipped). */
function envelopeTextOf(entryText: string): string {
  const start = entryText.indexOf('{');
  let depth = 0;
  let inString = false;
  for (let i = start; i < entryText.length; i++) {
    const c = entryText[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return entryText.slice(start, i + 1);
  }
  return entryText.slice(start);
}

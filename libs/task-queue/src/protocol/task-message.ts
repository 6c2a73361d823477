import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { inflateSync, brotliDecompressSync } from 'node:zlib';
import { ContentDisallowedError, InvalidTaskMessageError } from '../errors';
import { decodeJson, encodeJson } from './json.codec';
import { parseIsoTime, toCeleryIso } from './iso-time';
import { argsRepr, kwargsRepr } from './py-repr';
import { parseRetriesHeader, parseTimeLimitHeader } from './numeric-headers';

/**
 * Celery's task message, protocol v2 (celery-wire.md section 1). This file is the only place that
 * knows header names and the body layout; brokers move `TaskMessage`s without looking inside.
 */

/** A message as every transport carries it: AMQP fields, or the keys of kombu's Redis envelope. */
export interface TaskMessage {
  headers: Record<string, unknown>;
  properties: MessageProperties;
  contentType: string;
  contentEncoding: string;
  /** The serialized (and possibly compressed) body bytes. */
  body: Buffer;
}

/** AMQP basic properties Celery sets. Transports add their own (kombu's delivery_tag, …). */
export interface MessageProperties {
  correlation_id?: string;
  reply_to?: string;
  /** 2 = persistent (tasks), 1 = transient (events, replies). */
  delivery_mode?: number;
  priority?: number;
  /** Per-message TTL in milliseconds, as a string (set from `expires`, as Celery 5.2 does). */
  expiration?: string;
  [key: string]: unknown;
}

/** A serialized signature (celery-wire.md 7.1), as it travels in `embed`. */
export interface SignatureDict {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
  subtask_type: string | null;
  immutable: boolean;
  [key: string]: unknown;
}

/** The third item of the body: what to do after the task. */
export interface MessageEmbed {
  callbacks: SignatureDict[] | null;
  errbacks: SignatureDict[] | null;
  chain: SignatureDict[] | null;
  chord: SignatureDict | null;
}

/** Options of one call, with Celery's meaning. All optional. */
export interface SendOptions {
  /** Task id to use instead of a new UUID4. */
  taskId?: string;
  /** Seconds from now before the task may run; the client turns it into `eta`, as Celery does. */
  countdown?: number;
  /** Earliest time the task may run. */
  eta?: Date;
  /** Seconds from now, or a time, after which the task must not run. */
  expires?: number | Date;
  /** Queue to send to. Default: the task's queue, else `defaultQueue`. */
  queue?: string;
  /** 0 to 9. On Redis 0 is served first (kombu's buckets); on RabbitMQ 9 is. Default: none (0). */
  priority?: number;
  /** Hard time limit in seconds for this call (header `timelimit[0]`). */
  timeLimit?: number;
  /** Soft time limit in seconds for this call (header `timelimit[1]`). */
  softTimeLimit?: number;
  /** Do not store the result of this call. Default: the task's own setting (false). */
  ignoreResult?: boolean;
  /** Another name to show in logs and events; the lookup still uses the task name. */
  shadow?: string;
  /** Extra headers merged into the message headers. */
  headers?: Record<string, unknown>;
  /**
   * Where a countdown/eta waits: `broker` (our delayed store; the default, see the module's
   * `delayInBroker`) or `worker` (on the queue at once, the consuming worker holds it, as Celery does).
   * Use `worker` for queues only Python workers consume: they do not read our delayed store.
   */
  delayIn?: 'broker' | 'worker';
}

/** Fields set by the library itself (workflows, retries), not by a caller. */
export interface MessageContext {
  parentId?: string | null;
  rootId?: string | null;
  group?: string | null;
  groupIndex?: number | null;
  retries?: number;
  replyTo: string;
  origin: string;
  embed?: Partial<MessageEmbed>;
  now?: Date;
}

/** A task message taken apart, ready to run. */
export interface TaskRequest {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  embed: MessageEmbed;
  retries: number;
  eta: Date | null;
  expires: Date | null;
  /** [hard, soft] seconds, or null when not set for this call. */
  timeLimit: [number | null, number | null];
  rootId: string;
  parentId: string | null;
  group: string | null;
  groupIndex: number | null;
  shadow: string | null;
  origin: string | null;
  /** Undefined when the header is absent (the task's own setting then applies). */
  ignoreResult: boolean | undefined;
  replyTo: string | null;
  correlationId: string;
  priority: number;
  /** Every header as received, for extensions. */
  headers: Record<string, unknown>;
  /** Protocol version the message came in: 1 or 2. */
  protocol: 1 | 2;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** `gen<pid>@<hostname>`, Celery's `anon_nodename()` of a sending process. */
export const ORIGIN = `gen${process.pid}@${hostname()}`;

/** Builds the complete v2 message that a Celery 5.2.6 worker requires (celery-wire.md 1.5). */
export function buildTaskMessage(
  name: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
  options: SendOptions,
  ctx: MessageContext,
): TaskMessage {
  if (!Array.isArray(args)) throw new TypeError(`Task ${name}: args must be an array, got ${typeof args}`);
  if (!kwargs || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
    throw new TypeError(`Task ${name}: kwargs must be a plain object`);
  }
  const id = options.taskId ?? randomUUID();
  const now = ctx.now ?? new Date();
  const eta = options.countdown !== undefined ? new Date(now.getTime() + options.countdown * 1000) : options.eta;
  const expires =
    options.expires === undefined
      ? undefined
      : options.expires instanceof Date
        ? options.expires
        : new Date(now.getTime() + options.expires * 1000);
  const embed: MessageEmbed = {
    callbacks: ctx.embed?.callbacks ?? null,
    errbacks: ctx.embed?.errbacks ?? null,
    chain: ctx.embed?.chain ?? null,
    chord: ctx.embed?.chord ?? null,
  };
  const body = Buffer.from(encodeJson([args, kwargs, embed], `the arguments of task ${name}`), 'utf8');
  const headers: Record<string, unknown> = {
    lang: 'js',
    task: name,
    id,
    shadow: options.shadow ?? null,
    eta: eta ? toCeleryIso(eta) : null,
    expires: expires ? toCeleryIso(expires) : null,
    group: ctx.group ?? null,
    group_index: ctx.groupIndex ?? null,
    retries: ctx.retries ?? 0,
    timelimit: [options.timeLimit ?? null, options.softTimeLimit ?? null],
    root_id: ctx.rootId ?? id,
    parent_id: ctx.parentId ?? null,
    argsrepr: argsRepr(args),
    kwargsrepr: kwargsRepr(kwargs),
    origin: ctx.origin,
    ignore_result: options.ignoreResult ?? false,
    ...options.headers,
  };
  const properties: MessageProperties = {
    correlation_id: id,
    reply_to: ctx.replyTo,
    delivery_mode: 2,
    priority: options.priority ?? 0,
  };
  if (expires) properties.expiration = String(Math.max(0, expires.getTime() - now.getTime()));
  return { headers, properties, contentType: JSON_CONTENT_TYPE, contentEncoding: 'utf-8', body };
}

/** The task id of a message, without decoding its body (for logs about bad messages). */
export function peekTaskId(msg: TaskMessage): string | null {
  const id = msg.headers?.id ?? msg.properties?.correlation_id;
  return typeof id === 'string' ? id : null;
}

/**
 * Takes a message apart. Accepts protocol v2 and v1, kombu >= 5.3 tagged JSON, zlib/brotli compression.
 * Throws InvalidTaskMessageError (or ContentDisallowedError) with the reason when it is not a task.
 */
export function parseTaskMessage(msg: TaskMessage, acceptContent: readonly string[] = ['json']): TaskRequest {
  const contentType = msg.contentType;
  if (!contentType)
    throw new InvalidTaskMessageError('The message has no content type; Celery messages are application/json.');
  if (!isAccepted(contentType, acceptContent)) throw new ContentDisallowedError(contentType, acceptContent);

  const headers = msg.headers ?? {};
  const bodyText = decompress(msg.body, headers.compression).toString('utf8');
  let body: unknown;
  try {
    body = decodeJson(bodyText);
  } catch (err) {
    throw new InvalidTaskMessageError(`The body is not valid JSON (${(err as Error).message}).`, { cause: err });
  }

  if (typeof headers.task === 'string') return fromV2(headers, msg.properties ?? {}, body);
  if (
    body &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    typeof (body as { task?: unknown }).task === 'string'
  ) {
    return fromV1(body as Record<string, unknown>, msg.properties ?? {});
  }
  throw new InvalidTaskMessageError(
    'The message has no "task" header and its body is not a protocol 1 task: it is not a Celery task message.',
  );
}

function isAccepted(contentType: string, accept: readonly string[]): boolean {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  return accept.some((a) => {
    const x = a.toLowerCase();
    return x === ct || (x === 'json' && ct === JSON_CONTENT_TYPE);
  });
}

function decompress(body: Buffer, compression: unknown): Buffer {
  if (compression === undefined || compression === null) return body;
  switch (compression) {
    case 'application/x-gzip':
    case 'zlib':
      return inflateSync(body);
    case 'application/x-brotli':
      return brotliDecompressSync(body);
    default:
      throw new InvalidTaskMessageError(
        `Unsupported compression "${String(compression)}": use zlib (application/x-gzip) or brotli, or none.`,
      );
  }
}

function fromV2(h: Record<string, unknown>, p: MessageProperties, body: unknown): TaskRequest {
  if (!Array.isArray(body) || body.length !== 3) {
    throw new InvalidTaskMessageError(`The body must be [args, kwargs, embed]; got ${describe(body)}.`);
  }
  const [args, kwargs, rawEmbed] = body as [unknown, unknown, unknown];
  const id = str(h.id) ?? str(p.correlation_id);
  if (!id) throw new InvalidTaskMessageError('The message has no task id (header "id").');
  return {
    id,
    task: h.task as string,
    args: checkArgs(args),
    kwargs: checkKwargs(kwargs),
    embed: toEmbed(rawEmbed),
    retries: parseRetriesHeader(h.retries),
    eta: time(h.eta, 'eta'),
    expires: time(h.expires, 'expires'),
    timeLimit: timeLimit(h.timelimit),
    rootId: str(h.root_id) ?? id,
    parentId: str(h.parent_id),
    group: str(h.group),
    groupIndex: typeof h.group_index === 'number' ? h.group_index : null,
    shadow: str(h.shadow),
    origin: str(h.origin),
    ignoreResult: typeof h.ignore_result === 'boolean' ? h.ignore_result : undefined,
    replyTo: str(p.reply_to),
    correlationId: str(p.correlation_id) ?? id,
    priority: typeof p.priority === 'number' ? p.priority : 0,
    headers: h,
    protocol: 2,
  };
}

/** Protocol 1: everything in one body dict (celery-wire.md 1.6). */
function fromV1(b: Record<string, unknown>, p: MessageProperties): TaskRequest {
  const id = str(b.id);
  if (!id) throw new InvalidTaskMessageError('The protocol 1 message has no "id".');
  const callbacks = Array.isArray(b.callbacks) ? (b.callbacks as SignatureDict[]) : null;
  const errbacks = Array.isArray(b.errbacks) ? (b.errbacks as SignatureDict[]) : null;
  return {
    id,
    task: b.task as string,
    args: checkArgs(b.args ?? []),
    kwargs: checkKwargs(b.kwargs ?? {}),
    embed: { callbacks, errbacks, chain: null, chord: (b.chord as SignatureDict) ?? null },
    retries: parseRetriesHeader(b.retries),
    eta: time(b.eta, 'eta'),
    expires: time(b.expires, 'expires'),
    timeLimit: timeLimit(b.timelimit),
    rootId: id,
    parentId: null,
    group: str(b.taskset) ?? str(b.group),
    groupIndex: null,
    shadow: null,
    origin: null,
    ignoreResult: undefined,
    replyTo: str(p.reply_to),
    correlationId: str(p.correlation_id) ?? id,
    priority: typeof p.priority === 'number' ? p.priority : 0,
    headers: {},
    protocol: 1,
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item(s)`;
  return v === null ? 'null' : typeof v;
}

function checkArgs(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new InvalidTaskMessageError(`Task args must be an array; got ${describe(v)}.`);
  return v;
}

function checkKwargs(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new InvalidTaskMessageError(`Task kwargs must be an object; got ${describe(v)}.`);
  return v as Record<string, unknown>;
}

function toEmbed(v: unknown): MessageEmbed {
  const e = (v && typeof v === 'object' ? v : {}) as Partial<MessageEmbed>;
  return {
    callbacks: e.callbacks ?? null,
    errbacks: e.errbacks ?? null,
    chain: e.chain ?? null,
    chord: e.chord ?? null,
  };
}

function time(v: unknown, field: string): Date | null {
  if (v === null || v === undefined) return null;
  const d = typeof v === 'string' ? parseIsoTime(v) : v instanceof Date ? v : null;
  if (!d) throw new InvalidTaskMessageError(`The "${field}" header is not an ISO-8601 time: ${JSON.stringify(v)}.`);
  return d;
}

function timeLimit(v: unknown): [number | null, number | null] {
  return parseTimeLimitHeader(v);
}

/**
 * The message of the next run of a retried task, as a Celery worker publishes it (celery-wire.md 6):
 * same id, args, kwargs, embed and limits; `retries + 1`; `eta`; `parent_id` = the task itself;
 * `root_id` kept; `origin` = the worker's node name.
 */
export function buildRetryMessage(req: TaskRequest, eta: Date, origin: string): TaskMessage {
  const h = req.headers;
  return buildTaskMessage(
    req.task,
    req.args,
    req.kwargs,
    {
      taskId: req.id,
      eta,
      expires: req.expires ?? undefined,
      timeLimit: req.timeLimit[0] ?? undefined,
      softTimeLimit: req.timeLimit[1] ?? undefined,
      shadow: req.shadow ?? undefined,
      ignoreResult: req.ignoreResult,
      priority: req.priority,
      headers: pickExtraHeaders(h),
    },
    {
      retries: req.retries + 1,
      parentId: req.id,
      rootId: req.rootId,
      group: req.group,
      groupIndex: req.groupIndex,
      replyTo: req.replyTo ?? '',
      origin,
      embed: req.embed,
    },
  );
}

const KNOWN_HEADERS = new Set([
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
  'redelivered',
  'compression',
]);

/** Headers a caller added (apply_async(headers=…)), which a retry keeps. */
function pickExtraHeaders(h: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) if (!KNOWN_HEADERS.has(k)) out[k] = v;
  return out;
}

/** The `eta` of a message as a Date, when it is set and in the future; what brokers hold it until. */
export function etaOf(msg: TaskMessage, now = Date.now()): Date | undefined {
  const eta = typeof msg.headers.eta === 'string' ? parseIsoTime(msg.headers.eta) : null;
  return eta && eta.getTime() > now ? eta : undefined;
}

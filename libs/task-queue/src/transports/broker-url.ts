import { ConfigurationError } from '../errors/configuration.error';

/**
 * The one parser and masker of broker and result-backend URLs, for every transport: `redis://`,
 * `rediss://`, `sentinel://`, `amqp://`, `amqps://`, `rpc://`, `memory://`, and kombu's failover lists
 * (`amqp://h1;amqp://h2`, `sentinel://h1:26379;sentinel://h2:26379`). Pure functions, no driver.
 *
 * Why a hand-written split rather than `new URL()` alone: a password with a raw `/`, `@`, `?` or `#`
 * makes WHATWG URL cut the authority in the wrong place, so the "host" or "path" it returns holds part
 * of the password, and every message built from it leaks it. Here the user info always ends at the
 * LAST `@` of an entry: masking errs on the side of hiding too much, never too little.
 */

/** One entry of a (possibly `;`-separated) URL, decoded. */
export interface BrokerUrlEntry {
  /** Lower-case scheme without `://`, e.g. `redis`, `sentinel`, `amqps`. */
  scheme: string;
  /** Host name ('' for `memory://`/`rpc://`); IPv6 without brackets. */
  hostname: string;
  /** Port, or undefined when the URL names none. */
  port?: number;
  /** Percent-decoded user name, or undefined. */
  username?: string;
  /** Percent-decoded password, or undefined. Never log it. */
  password?: string;
  /** Percent-decoded path without its leading `/` (Redis DB number, AMQP vhost, memory name). */
  path: string;
  /** Whether the URL had a path at all (`amqp://h` vs `amqp://h/`): kombu treats them differently. */
  hasPath: boolean;
  /** Query parameters (`?master_name=…&sentinel_password=…`), decoded. Values may be secrets. */
  query: Record<string, string>;
  /** The entry as written (unmasked: pass it to a driver, never to a log). */
  raw: string;
}

/** A parsed URL: one entry, or several for a failover list. */
export interface ParsedBrokerUrl {
  /** Scheme of the first entry; every entry of a list has the same transport family. */
  scheme: string;
  entries: BrokerUrlEntry[];
}

/** Query parameters whose values are secrets, masked like a password. */
const SECRET_PARAM = /pass|secret|token|auth|credential|key/i;
/** Characters that must be percent-encoded inside user info (RFC 3986 gen-delims, except ':' in the password). */
const RAW_RESERVED = /[/?#@[\]\s]|%(?![0-9a-f]{2})/i;
/** Start of a URL entry: a scheme followed by `://`. */
const ENTRY_START = /^\s*([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Splits kombu's failover list on `;`, only where the next entry starts with `scheme://`, so a `;`
 * inside a password (legal: it is a sub-delimiter) does not cut an entry in two.
 */
export function splitBrokerUrls(url: string): string[] {
  return url
    .split(/;(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The URL with every password (and every secret-looking query value) replaced by `***`, for logs,
 * errors, banners and control replies. Works on any string, valid URL or not.
 */
export function maskBrokerUrl(url: string, mask = '***'): string {
  if (typeof url !== 'string') return String(url);
  return splitBrokerUrls(url)
    .map((e) => maskEntry(e, mask))
    .join(';');
}

function maskEntry(entry: string, mask: string): string {
  const m = ENTRY_START.exec(entry);
  const prefix = m ? entry.slice(0, m[0].length) : '';
  let rest = m ? entry.slice(m[0].length) : entry;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    // Without a scheme we cannot tell the user from the password: hide all of it.
    const shown = !m ? mask : colon >= 0 ? `${userinfo.slice(0, colon)}:${mask}` : userinfo;
    rest = `${shown}@${rest.slice(at + 1)}`;
  }
  return prefix + maskQuery(rest, mask);
}

function maskQuery(s: string, mask: string): string {
  const q = s.indexOf('?');
  if (q < 0) return s;
  const params = s
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      return SECRET_PARAM.test(p.slice(0, eq)) ? `${p.slice(0, eq)}=${mask}` : p;
    });
  return `${s.slice(0, q)}?${params.join('&')}`;
}

/**
 * Parses a broker/backend URL (a single URL or a `;` failover list). Refuses, with the URL masked, a
 * user name or password that holds a raw reserved character (`/ ? # @ [ ]`, a space, a lone `%`):
 * such a URL means something else than the user wrote, and guessing could send the password to
 * the wrong host or into a log.
 *
 * @param what names the setting in messages, e.g. `brokerUrl`.
 */
export function parseBrokerUrl(url: string, what = 'The broker URL'): ParsedBrokerUrl {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ConfigurationError(
      `${what} is empty. Give a URL such as redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//.`,
    );
  }
  const entries = splitBrokerUrls(url).map((e) => parseEntry(e, url, what));
  const scheme = entries[0].scheme;
  const family = (s: string) => (s === 'rediss' ? 'redis' : s === 'amqps' ? 'amqp' : s);
  if (entries.some((e) => family(e.scheme) !== family(scheme))) {
    throw new ConfigurationError(
      `${what} "${maskBrokerUrl(url)}" mixes transports in one failover list: every entry must use the same scheme.`,
    );
  }
  return { scheme, entries };
}

/** True when `parseBrokerUrl` would accept the URL. */
export function isValidBrokerUrl(url: string): boolean {
  try {
    parseBrokerUrl(url);
    return true;
  } catch {
    return false;
  }
}

function parseEntry(entry: string, whole: string, what: string): BrokerUrlEntry {
  const m = ENTRY_START.exec(entry);
  if (!m) {
    throw new ConfigurationError(
      `${what} "${maskBrokerUrl(whole)}" has no scheme: write it as scheme://…, e.g. redis://host:6379/0.`,
    );
  }
  const scheme = m[1].toLowerCase();
  const rest = entry.slice(m[0].length);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  if (at >= 0 && RAW_RESERVED.test(userinfo)) {
    throw new ConfigurationError(
      `${what} "${maskBrokerUrl(whole)}" has a user name or password with a raw reserved character ` +
        '(one of / ? # @ [ ] %, or a space). Percent-encode the user name and password ' +
        '(encodeURIComponent in JavaScript, urllib.parse.quote(…, safe="") in Python): "/" is %2F, "@" is %40, "%" is %25.',
    );
  }
  let u: URL;
  try {
    u = new URL(`${scheme}://${rest}`);
  } catch {
    throw new ConfigurationError(
      `${what} "${maskBrokerUrl(whole)}" is not a valid URL. Expected scheme://[user:password@]host[:port][/path].`,
    );
  }
  const decode = (s: string, part: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ConfigurationError(`${what} "${maskBrokerUrl(whole)}" has a badly percent-encoded ${part}.`);
    }
  };
  const colon = userinfo.indexOf(':');
  const rawUser = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const rawPass = colon >= 0 ? userinfo.slice(colon + 1) : undefined;
  const query: Record<string, string> = {};
  u.searchParams.forEach((v, k) => (query[k] = v));
  const pathname = u.pathname;
  return {
    scheme,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : undefined,
    username: rawUser ? decode(rawUser, 'user name') : undefined,
    password: rawPass !== undefined && rawPass !== '' ? decode(rawPass, 'password') : undefined,
    path: decode(pathname.replace(/^\//, ''), 'path'),
    hasPath: pathname !== '',
    query,
    raw: entry,
  };
}

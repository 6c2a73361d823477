import { maskBrokerUrl } from './broker-url';

/**
 * The one URL masker: hides the password (and secret-looking query values) of a broker or backend URL,
 * including each entry of a `;` failover list, before it reaches a log, an error or a reply. Logs and
 * errors use `***`; the `conf` control reply uses Celery's `**` (`maskpass`). The parsing lives in
 * `broker-url.ts` (a user info always ends at the LAST `@`, so a raw `@` or `/` in a password is hidden too).
 */
export function maskUrl(url: string, mask = '***'): string {
  return maskBrokerUrl(url, mask);
}

/** Masks the password of every URL inside a text (an error message, a reply) with the masker above. */
export function maskUrlsIn(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (u) => maskUrl(u));
}

import { randomBytes } from 'node:crypto';
import { maskUrlsIn } from '../transports/url-mask';

export const CSRF_COOKIE = 'taskq_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** A new CSRF token (one per browser session, kept in a cookie). */
export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

export function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Masks the password of every URL in a text (error messages, replies) with the library's masker. */
export function maskSecrets(text: string): string {
  return maskUrlsIn(text);
}

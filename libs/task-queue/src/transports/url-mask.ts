/**
 * The one URL masker: hides the password of a broker or backend URL before it reaches a log, an
 * error or a reply. Logs and errors use `***`; the `conf` control reply uses Celery's `**` (`maskpass`).
 */
export function maskUrl(url: string, mask = '***'): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme: string, user: string) => `${scheme}${user}:${mask}@`);
}

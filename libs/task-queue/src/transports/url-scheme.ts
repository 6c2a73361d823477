/** The scheme of a broker or backend URL, lower-cased (`redis`, `rediss`, `amqp`, `memory`, `rpc`); picks the transport. */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1].toLowerCase() : ''; // never echo a scheme-less string: it may hold a password
}

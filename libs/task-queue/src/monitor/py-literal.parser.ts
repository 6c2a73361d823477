/**
 * Reads back the Python reprs Celery events carry (`argsrepr`, `kwargsrepr`: tuples, lists, dicts,
 * str, int, float, None, True, False), so that "retry" can send a failed task again with its
 * arguments. Anything else, and reprs Celery cut at 1024 characters (`...`), is refused.
 */
export function parsePyLiteral(text: string): unknown {
  let i = 0;
  const s = text;
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot read the Python value at position ${i}: ${what}`);
  };
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const seq = (close: string): unknown[] => {
    const out: unknown[] = [];
    ws();
    while (s[i] !== close) {
      out.push(value());
      ws();
      if (s[i] === ',') {
        i++;
        ws();
      } else if (s[i] !== close) fail(`expected , or ${close}`);
    }
    i++;
    return out;
  };
  const str = (): string => {
    const q = s[i++];
    let out = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\') {
        const c = s[++i];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
        if (c === 'x' || c === 'u') {
          const len = c === 'x' ? 2 : 4;
          out += String.fromCharCode(parseInt(s.slice(i + 1, i + 1 + len), 16));
          i += len + 1;
          continue;
        }
        out += map[c] ?? c;
        i++;
      } else out += s[i++];
    }
    if (s[i] !== q) fail('unterminated string');
    i++;
    return out;
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '(' || c === '[') {
      i++;
      return seq(c === '(' ? ')' : ']');
    }
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      while (s[i] !== '}') {
        const k = value();
        ws();
        if (s[i++] !== ':') fail('expected :');
        o[String(k)] = value();
        ws();
        if (s[i] === ',') i++;
        ws();
      }
      i++;
      return o;
    }
    if (c === "'" || c === '"') return str();
    const m = /^(None|True|False|-?\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(s.slice(i));
    if (!m) fail('not a literal');
    i += m![0].length;
    return m![0] === 'None' ? null : m![0] === 'True' ? true : m![0] === 'False' ? false : Number(m![0]);
  };
  if (/\.\.\.\s*[)\]}]?$/.test(text))
    throw new SyntaxError(
      'The arguments were cut at 1024 characters when the event was sent; they cannot be read back.',
    );
  const v = value();
  ws();
  if (i !== s.length) fail('unexpected text after the value');
  return v;
}

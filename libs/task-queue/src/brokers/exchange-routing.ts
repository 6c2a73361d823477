/**
 * AMQP's routing rules, for transports that emulate exchanges (memory; kombu does the same on Redis).
 * Fanout: every binding. Direct: equal keys. Topic: dot-separated words, `*` one word, `#` zero or more.
 */
export function routingMatches(type: 'fanout' | 'direct' | 'topic', bindingKey: string, routingKey: string): boolean {
  if (type === 'fanout') return true;
  if (type === 'direct') return bindingKey === routingKey;
  return topicMatches(bindingKey.split('.'), routingKey.split('.'));
}

function topicMatches(pattern: string[], words: string[]): boolean {
  if (pattern.length === 0) return words.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') {
    for (let i = 0; i <= words.length; i++) if (topicMatches(rest, words.slice(i))) return true;
    return false;
  }
  if (words.length === 0) return false;
  return (head === '*' || head === words[0]) && topicMatches(rest, words.slice(1));
}

import { pendingMeta, readyMeta } from '../../protocol/result-meta';
import { RpcResultCache } from './rpc-result.cache';

describe('RpcResultCache', () => {
  it('keeps the latest state per task and tells its listeners', () => {
    const cache = new RpcResultCache(10);
    const seen: string[] = [];
    const off = cache.listen('a', (m) => seen.push(m.status));
    cache.put({ ...pendingMeta('a'), status: 'STARTED' });
    cache.put(readyMeta('a', 'SUCCESS', 1, null));
    off();
    cache.put(readyMeta('a', 'SUCCESS', 2, null));
    expect(seen).toEqual(['STARTED', 'SUCCESS']);
    expect(cache.get('a')?.result).toBe(2);
    expect(cache.get('b')).toBeNull();
  });

  it('never replaces a SUCCESS with a later non-SUCCESS state', () => {
    const cache = new RpcResultCache(10);
    cache.put(readyMeta('a', 'SUCCESS', 1, null));
    cache.put({ ...pendingMeta('a'), status: 'STARTED' });
    expect(cache.get('a')?.status).toBe('SUCCESS');
  });

  it('drops the oldest entries beyond its bound, and forgets on request', () => {
    const cache = new RpcResultCache(2);
    for (const id of ['a', 'b', 'c']) cache.put(readyMeta(id, 'SUCCESS', id, null));
    expect([cache.get('a'), cache.get('b')?.result, cache.get('c')?.result]).toEqual([null, 'b', 'c']);
    cache.forget('b');
    expect(cache.size).toBe(1);
  });

  it('goes on telling other listeners when one throws', () => {
    const cache = new RpcResultCache(2);
    const seen: string[] = [];
    cache.listen('a', () => {
      throw new Error('boom');
    });
    cache.listen('a', (m) => seen.push(m.status));
    cache.put(readyMeta('a', 'FAILURE', null, null));
    expect(seen).toEqual(['FAILURE']);
  });
});

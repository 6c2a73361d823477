import { decodeResultMeta, encodeResultMeta, readyMeta } from './result-meta';
import { loadVector } from '../../../../test/support/celery-vectors';

describe('result meta', () => {
  it('writes Celery fields in Celery order, which decode back to the captured meta', () => {
    const captured = loadVector('result-meta.json').success.json;
    const ours = encodeResultMeta({ ...captured });
    expect(Object.keys(JSON.parse(ours))).toEqual(Object.keys(captured));
    expect(decodeResultMeta(ours)).toEqual(captured);
  });

  it('keeps optional fields in order, before task_id', () => {
    const json = encodeResultMeta(
      readyMeta(
        't1',
        'SUCCESS',
        { a: [1, 'x'] },
        null,
        { group_id: 'g', parent_id: 'p' },
        new Date('2026-01-01T00:00:00Z'),
      ),
    );
    expect(json).toBe(
      '{"status":"SUCCESS","result":{"a":[1,"x"]},"traceback":null,"children":[],"date_done":"2026-01-01T00:00:00.000000","group_id":"g","parent_id":"p","task_id":"t1"}',
    );
  });

  it('stores a result JSON cannot carry as a FAILURE saying why', () => {
    const meta = decodeResultMeta(encodeResultMeta(readyMeta('t2', 'SUCCESS', NaN, null)));
    expect(meta.status).toBe('FAILURE');
    expect(meta.result).toMatchObject({ exc_type: 'SerializationError', exc_module: 'nodejs' });
  });
});

import { loadVector } from '../../../../../test/support/celery-vectors';
import { readyMeta } from '../../protocol/result-meta';
import { decodeRpcReply, encodeRpcReply } from './rpc-reply.codec';

describe('rpc reply codec', () => {
  const vector = loadVector('amqp-rpc-result.json').messages;

  it('reads the captured SUCCESS and FAILURE replies of a Celery worker', () => {
    const ok = decodeRpcReply(Buffer.from(vector[0].body), vector[0].properties.correlation_id);
    expect(ok).toEqual({
      status: 'SUCCESS',
      result: 5,
      traceback: null,
      children: [],
      date_done: null,
      task_id: 'eeeeeeee-0000-4000-8000-000000000001',
    });
    const bad = decodeRpcReply(Buffer.from(vector[1].body), vector[1].properties.correlation_id);
    expect(bad.status).toBe('FAILURE');
    expect(bad.result).toEqual({ exc_type: 'MyError', exc_message: ['amqp-bad', 42], exc_module: 'wiremod' });
    expect(bad.traceback).toMatch(/wiremod.MyError/);
  });

  it("writes Celery's five fields in Celery's order, without date_done", () => {
    const body = encodeRpcReply(readyMeta('eeeeeeee-0000-4000-8000-000000000001', 'SUCCESS', 5, null, { worker: 'w' }));
    expect(Object.keys(JSON.parse(body.toString()))).toEqual(['task_id', 'status', 'result', 'traceback', 'children']);
    expect(JSON.parse(body.toString())).toEqual(JSON.parse(vector[0].body));
  });

  it('sends a result JSON cannot carry as a FAILURE instead of throwing', () => {
    const body = JSON.parse(encodeRpcReply(readyMeta('t1', 'SUCCESS', { big: 10n }, null)).toString());
    expect(body.status).toBe('FAILURE');
    expect(body.result.exc_type).toBe('SerializationError');
  });

  it('takes the task id from correlation_id first, then from the body', () => {
    expect(decodeRpcReply(Buffer.from('{"task_id": "b", "status": "STARTED"}'), 'a').task_id).toBe('a');
    expect(decodeRpcReply(Buffer.from('{"task_id": "b", "status": "STARTED"}'), undefined).task_id).toBe('b');
    expect(() => decodeRpcReply(Buffer.from('[1]'), 'a')).toThrow(TypeError);
    expect(() => decodeRpcReply(Buffer.from('{"status": "SUCCESS"}'), undefined)).toThrow(/names no task/);
  });
});

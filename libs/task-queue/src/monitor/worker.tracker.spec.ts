import { MonitorMetrics } from './monitor.metrics';
import { WorkerTracker } from './worker.tracker';

describe('WorkerTracker', () => {
  it('is offline after two missed heartbeats, forgotten after the purge time, and its series go', async () => {
    let now = 0;
    const metrics = new MonitorMetrics();
    const t = new WorkerTracker({
      purgeOfflineAfterMs: 60_000,
      now: () => now,
      onPurge: (h) => metrics.dropWorker(h),
      onChange: (w) => metrics.onWorker(w),
    });
    t.onEvent({ type: 'worker-heartbeat', hostname: 'a@h', timestamp: 0, freq: 2, active: 1, processed: 5 });
    metrics.onTaskEvent({ type: 'task-received', hostname: 'a@h', timestamp: 0, uuid: '1', name: 'tasks.add' });
    expect(t.get('a@h')).toMatchObject({ online: true, active: 1, processed: 5 });
    now = 3_999;
    t.sweep();
    expect(t.get('a@h')!.online).toBe(true);
    now = 4_001;
    t.sweep();
    expect(t.get('a@h')!.online).toBe(false);
    expect(await metrics.text()).toContain('celery_worker_up{hostname="a@h"} 0');
    now = 64_002;
    t.sweep();
    expect(t.list()).toEqual([]);
    const text = await metrics.text();
    expect(text).not.toContain('a@h');
  });

  it('worker-offline is offline at once', () => {
    const t = new WorkerTracker({ purgeOfflineAfterMs: 60_000 });
    t.onEvent({ type: 'worker-online', hostname: 'a@h', timestamp: 0 });
    t.onEvent({ type: 'worker-offline', hostname: 'a@h', timestamp: 0 });
    expect(t.get('a@h')!.online).toBe(false);
  });
});

// The dashboard page: preact renders (and escapes every text it is given), htm gives JSX-like
// templates without a build step. Live: one EventSource; each view refetches what it shows when
// something changed (at most every 500 ms).
import { h, render } from '../vendor/preact.mjs';
import { useEffect, useState, useCallback } from '../vendor/hooks.mjs';
import htm from '../vendor/htm.mjs';

const html = htm.bind(h);
const STATES = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED'];
let session = { csrf: '', readOnly: true, broker: '' };

function route() {
  const [page, ...rest] = (location.hash.replace(/^#\/?/, '') || 'tasks').split('/');
  return { page, arg: rest.map(decodeURIComponent).join('/') };
}

async function getJson(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`${r.status} ${(await r.json().catch(() => ({}))).message ?? r.statusText}`);
  return r.json();
}

async function act(name, body, setFlash) {
  try {
    const r = await fetch(`api/actions/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    setFlash({ ok: r.ok && j.ok !== false, message: j.message ?? String(j.error ?? r.status), replies: j.replies });
  } catch (err) {
    setFlash({ ok: false, message: String(err) });
  }
}

/** Refetches `url` on mount, when it changes and when the live stream says something changed. */
function useLive(url, tick) {
  // Kept with its URL: after navigating, the previous page's data is never shown as the new one's.
  const [got, setGot] = useState({ url: null, data: null, error: null });
  useEffect(() => {
    let alive = true;
    getJson(url).then(
      (d) => alive && setGot({ url, data: d, error: null }),
      (e) => alive && setGot({ url, data: null, error: String(e) }),
    );
    return () => {
      alive = false;
    };
  }, [url, tick]);
  return got.url === url ? [got.data, got.error] : [null, null];
}

const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
const fmtRuntime = (s) => (s === null ? '' : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const fmtDate = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 23) : '');
const Badge = ({ s }) => html`<span class=${`badge ${s}`} data-state=${s}>${s}</span>`;

function Flash({ flash }) {
  if (!flash) return null;
  return html`<div class=${`flash ${flash.ok ? '' : 'error'}`} data-testid="flash">
    <div>${flash.message}</div>
    ${flash.replies && flash.replies.length ? html`<pre data-testid="replies">${JSON.stringify(flash.replies, null, 2)}</pre>` : null}
  </div>`;
}

function Workers({ tick, setFlash }) {
  const [data, error] = useLive('api/workers', tick);
  const [queue, setQueue] = useState({});
  if (error) return html`<div class="empty">${error}</div>`;
  if (!data) return null;
  if (!data.workers.length) return html`<div class="empty">No worker has sent a heartbeat yet.</div>`;
  return html`<table data-testid="workers">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Status</th>
          <th>Active</th>
          <th>Processed</th>
          <th>Succeeded</th>
          <th>Failed</th>
          <th>Load</th>
          <th>Queues</th>
          <th>Pool</th>
          <th>Last heartbeat</th>
          <th>Software</th>
          ${session.readOnly ? null : html`<th>Actions</th>`}
        </tr>
      </thead>
      <tbody>
        ${data.workers.map(
          (w) =>
            html`<tr data-worker=${w.hostname}>
              <td class="mono">${w.hostname}</td>
              <td>
                <span class=${`badge ${w.online ? 'online' : 'offline'}`}>${w.online ? 'online' : 'offline'}</span>
              </td>
              <td>${w.active}</td>
              <td>${w.processed}</td>
              <td>${w.succeeded}</td>
              <td>${w.failed}</td>
              <td>${w.loadavg.join(' ')}</td>
              <td>
                ${w.queues.map((q) => html`<div>${q} ${session.readOnly ? null : html`<button data-action="cancel_consumer" onClick=${() => act('cancel_consumer', { worker: w.hostname, queue: q }, setFlash)}>stop</button>`}</div>`)}
              </td>
              <td>${w.pool ? `${w.pool.implementation} ×${w.pool.maxConcurrency ?? w.pool.processes}` : ''}</td>
              <td>${fmtTime(w.lastHeartbeat)}</td>
              <td>${w.software}</td>
              ${
                session.readOnly
                  ? null
                  : html`<td>
                      <div class="actions">
                        <input
                          placeholder="queue"
                          size="8"
                          value=${queue[w.hostname] ?? ''}
                          onInput=${(e) => setQueue({ ...queue, [w.hostname]: e.target.value })}
                        />
                        <button
                          data-action="add_consumer"
                          onClick=${() => act('add_consumer', { worker: w.hostname, queue: queue[w.hostname] ?? '' }, setFlash)}
                        >
                          consume
                        </button>
                        <button
                          data-action="pool_grow"
                          onClick=${() => act('pool_grow', { worker: w.hostname, n: 1 }, setFlash)}
                        >
                          pool +1
                        </button>
                        <button
                          data-action="pool_shrink"
                          onClick=${() => act('pool_shrink', { worker: w.hostname, n: 1 }, setFlash)}
                        >
                          pool −1
                        </button>
                        <button
                          class="danger"
                          data-action="shutdown"
                          onClick=${() => confirm(`Shut ${w.hostname} down?`) && act('shutdown', { worker: w.hostname }, setFlash)}
                        >
                          shut down
                        </button>
                      </div>
                    </td>`
              }
            </tr>`,
        )}
      </tbody>
    </table>
    <p class="meta">${data.throughput} tasks/s finished (last 10 s)</p>`;
}

function DeadLetters({ queue, tick, setFlash }) {
  const [data, error] = useLive(`api/queues/${encodeURIComponent(queue)}/dead-letters`, tick);
  if (error) return html`<div class="empty">${error}</div>`;
  if (!data) return null;
  if (!data.deadLetters.length) return html`<div class="empty">No dead letters in ${queue}.</div>`;
  return html`<table data-testid="dead-letters">
    <thead>
      <tr>
        <th>At</th>
        <th>Task</th>
        <th>Id</th>
        <th>Reason</th>
        <th>Body</th>
        ${session.readOnly ? null : html`<th></th>`}
      </tr>
    </thead>
    <tbody>
      ${data.deadLetters.map(
        (l) =>
          html`<tr data-dead-letter=${l.taskId}>
            <td>${l.at}</td>
            <td>${l.task}</td>
            <td class="mono">${l.taskId}</td>
            <td>${l.reason}</td>
            <td class="mono">${l.body}</td>
            ${
              session.readOnly
                ? null
                : html`<td class="actions">
                    <button
                      data-action="requeue_dead_letter"
                      onClick=${() => act('requeue_dead_letter', { queue, taskId: l.taskId }, setFlash)}
                    >
                      requeue
                    </button>
                    <button
                      class="danger"
                      data-action="delete_dead_letter"
                      onClick=${() => act('delete_dead_letter', { queue, taskId: l.taskId }, setFlash)}
                    >
                      delete
                    </button>
                  </td>`
            }
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function Queues({ tick, setFlash }) {
  const [data, error] = useLive('api/queues', tick);
  const [open, setOpen] = useState(null);
  if (error) return html`<div class="empty">${error}</div>`;
  if (!data) return null;
  return html`<table data-testid="queues">
      <thead>
        <tr>
          <th>Queue</th>
          <th>Ready</th>
          <th>By priority</th>
          <th>Delayed</th>
          <th>Unacked</th>
          <th>Dead letters</th>
          <th>Consumers</th>
          <th>Ready Δ/s</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${data.queues.map(
          (q) =>
            html`<tr data-queue=${q.name}>
              <td class="mono">${q.name}</td>
              <td data-col="ready">${q.ready}</td>
              <td>
                ${
                  q.byPriority
                    ? Object.entries(q.byPriority)
                        .map(([p, n]) => `${p}:${n}`)
                        .join(' ')
                    : '—'
                }
              </td>
              <td>${q.delayed}</td>
              <td>${q.unacked ?? '—'}</td>
              <td>
                <a href="javascript:void 0" onClick=${() => setOpen(open === q.name ? null : q.name)}
                  >${q.deadLetters}</a
                >
              </td>
              <td>
                ${q.consumers.join(', ')}${q.brokerConsumers !== null && q.brokerConsumers !== q.consumers.length ? ` (broker: ${q.brokerConsumers})` : ''}
              </td>
              <td>${q.readyPerSecond ?? ''}</td>
              <td>
                ${session.readOnly ? null : html`<button class="danger" data-action="purge" onClick=${() => confirm(`Purge ${q.name}?`) && act('purge', { queue: q.name }, setFlash)}>purge</button>`}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      open
        ? html`<h2>Dead letters of ${open}</h2>
            <${DeadLetters} queue=${open} tick=${tick} setFlash=${setFlash} />`
        : null
    }`;
}

function Tasks({ tick, setFlash }) {
  const [f, setF] = useState({ state: '', name: '', worker: '', search: '', from: '', to: '' });
  const qs = new URLSearchParams(
    Object.entries(f)
      .filter(([, v]) => v)
      .map(([k, v]) => [k, k === 'from' || k === 'to' ? String(Date.parse(v)) : v]),
  ).toString();
  const [data, error] = useLive(`api/tasks?limit=100&${qs}`, tick);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  return html`<div class="filters">
      <select name="state" value=${f.state} onChange=${set('state')}>
        <option value="">any state</option>
        ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <input name="name" placeholder="task name" value=${f.name} onInput=${set('name')} />
      <input name="worker" placeholder="worker" value=${f.worker} onInput=${set('worker')} />
      <input name="search" placeholder="search args, result, id…" value=${f.search} onInput=${set('search')} />
      <label>from <input name="from" type="datetime-local" value=${f.from} onInput=${set('from')} /></label>
      <label>to <input name="to" type="datetime-local" value=${f.to} onInput=${set('to')} /></label>
    </div>
    ${error ? html`<div class="empty">${error}</div>` : null}
    ${
      data
        ? html`<table data-testid="tasks">
              <thead>
                <tr>
                  <th>Task</th>
                  <th>Id</th>
                  <th>State</th>
                  <th>Args</th>
                  <th>Kwargs</th>
                  <th>Result</th>
                  <th>Worker</th>
                  <th>Received</th>
                  <th>Runtime</th>
                  ${session.readOnly ? null : html`<th></th>`}
                </tr>
              </thead>
              <tbody>
                ${data.tasks.map(
                  (t) =>
                    html`<tr data-task-id=${t.id}>
                      <td>${t.name}</td>
                      <td class="mono"><a href=${`#/task/${encodeURIComponent(t.id)}`}>${t.id}</a></td>
                      <td><${Badge} s=${t.state} /></td>
                      <td class="mono" data-col="args">${t.args}</td>
                      <td class="mono">${t.kwargs}</td>
                      <td class="mono" data-col="result">${t.result ?? t.exception}</td>
                      <td class="mono">${t.worker}</td>
                      <td>${fmtTime(t.received)}</td>
                      <td>${fmtRuntime(t.runtime)}</td>
                      ${session.readOnly ? null : html`<td>${['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED'].includes(t.state) ? null : html`<button class="danger" data-action="revoke" onClick=${() => act('terminate', { taskId: t.id }, setFlash)}>revoke</button>`}</td>`}
                    </tr>`,
                )}
              </tbody>
            </table>
            <p class="meta">
              ${data.tasks.length} shown, ${data.total} kept in the
              history${data.total > data.scanLimit && qs ? ` (filters look at the newest ${data.scanLimit} in the time window: narrow it to reach older tasks)` : ''}
            </p>`
        : null
    }`;
}

function TaskDetail({ id, tick, setFlash }) {
  const [data, error] = useLive(`api/tasks/${encodeURIComponent(id)}`, tick);
  const [limits, setLimits] = useState({ rate: '', soft: '', hard: '' });
  if (error) return html`<div class="empty">${error}</div>`;
  if (!data) return null;
  const t = data.task;
  const link = (x) => (x ? html`<a class="mono" href=${`#/task/${encodeURIComponent(x)}`}>${x}</a>` : '—');
  return html`<div data-testid="task-detail" data-task-id=${t.id}>
    <h2>${t.name ?? 'unknown task'} <${Badge} s=${t.state} /></h2>
    ${
      session.readOnly
        ? null
        : html`<div class="actions" style="margin-bottom:12px">
            <button data-action="revoke" onClick=${() => act('revoke', { taskId: t.id }, setFlash)}>revoke</button>
            <button
              class="danger"
              data-action="terminate"
              onClick=${() => act('terminate', { taskId: t.id }, setFlash)}
            >
              terminate
            </button>
            <button data-action="retry" onClick=${() => act('retry', { taskId: t.id }, setFlash)}>
              retry (send again)
            </button>
            <input
              placeholder="rate e.g. 10/m"
              size="9"
              value=${limits.rate}
              onInput=${(e) => setLimits({ ...limits, rate: e.target.value })}
            />
            <button
              data-action="rate_limit"
              onClick=${() => act('rate_limit', { taskName: t.name, rateLimit: limits.rate }, setFlash)}
            >
              set rate limit
            </button>
            <input
              placeholder="soft s"
              size="5"
              value=${limits.soft}
              onInput=${(e) => setLimits({ ...limits, soft: e.target.value })}
            />
            <input
              placeholder="hard s"
              size="5"
              value=${limits.hard}
              onInput=${(e) => setLimits({ ...limits, hard: e.target.value })}
            />
            <button
              data-action="time_limit"
              onClick=${() => act('time_limit', { taskName: t.name, soft: limits.soft, hard: limits.hard }, setFlash)}
            >
              set time limit
            </button>
          </div>`
    }
    <div class="grid">
      <div>Id</div>
      <div class="mono">${t.id}</div>
      <div>Worker</div>
      <div class="mono">${t.worker ?? '—'}</div>
      <div>Retries</div>
      <div>${t.retries}</div>
      <div>Parent</div>
      <div>${link(t.parentId)}</div>
      <div>Root (chain/chord)</div>
      <div>${link(t.rootId)}</div>
      <div>Group</div>
      <div class="mono">${t.groupId ?? '—'}</div>
      <div>Children</div>
      <div>${t.children.length ? t.children.map((c) => html`<div>${link(c)}</div>`) : '—'}</div>
      <div>ETA / expires</div>
      <div>${t.eta ?? '—'} / ${t.expires ?? '—'}</div>
      <div>Received</div>
      <div>${fmtDate(t.received)}</div>
      <div>Started</div>
      <div>${fmtDate(t.started)}</div>
      <div>Finished</div>
      <div>${fmtDate(t.finished)}</div>
      <div>Runtime</div>
      <div>${t.runtime ?? '—'}</div>
    </div>
    <h2>Args</h2>
    <pre data-testid="args">${t.args ?? ''}</pre>
    <h2>Kwargs</h2>
    <pre data-testid="kwargs">${t.kwargs ?? ''}</pre>
    <h2>${t.state === 'SUCCESS' ? 'Result' : 'Exception'}</h2>
    <pre data-testid="result">${t.state === 'SUCCESS' ? (t.result ?? '') : (t.exception ?? '')}</pre>
    ${
      t.traceback
        ? html`<h2>Traceback</h2>
            <pre data-testid="traceback">${t.traceback}</pre>`
        : null
    }
    <h2>Timeline</h2>
    <table data-testid="timeline">
      <thead>
        <tr>
          <th>Event</th>
          <th>At</th>
          <th>Host</th>
        </tr>
      </thead>
      <tbody>
        ${t.timeline.map(
          (e) =>
            html`<tr>
              <td>${e.type}</td>
              <td>${fmtDate(e.at)}</td>
              <td class="mono">${e.hostname}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      data.family.length > 1
        ? html`<h2>Same workflow (root ${t.rootId ?? t.id})</h2>
            <table>
              <tbody>
                ${data.family.map(
                  (x) =>
                    html`<tr>
                      <td>${link(x.id)}</td>
                      <td>${x.name}</td>
                      <td><${Badge} s=${x.state} /></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : null
    }
  </div>`;
}

function Periodic({ tick, setFlash }) {
  const [data, error] = useLive('api/periodic', tick);
  if (error) return html`<div class="empty">${error}</div>`;
  if (!data) return null;
  if (!data.entries.length)
    return html`<div class="empty" data-testid="periodic">
      No periodic tasks${data.note ? ` (${data.note})` : ''}.
    </div>`;
  const edit = data.canEdit && !session.readOnly;
  return html`<table data-testid="periodic">
      <thead>
        <tr>
          <th>Name</th>
          <th>Task</th>
          <th>Schedule</th>
          <th>Enabled</th>
          <th>Last run</th>
          <th>Next run</th>
          <th>Runs</th>
          ${edit ? html`<th></th>` : null}
        </tr>
      </thead>
      <tbody>
        ${data.entries.map(
          (e) =>
            html`<tr data-periodic=${e.name}>
              <td>${e.name}</td>
              <td>${e.task}</td>
              <td class="mono">${e.schedule}</td>
              <td>${e.enabled ? 'yes' : 'paused'}</td>
              <td>${e.lastRunAt ?? ''}</td>
              <td>${e.nextRunAt ?? ''}</td>
              <td>${e.totalRunCount ?? ''}</td>
              ${edit ? html`<td>${e.enabled ? html`<button data-action="pause_periodic" onClick=${() => act('pause_periodic', { name: e.name }, setFlash)}>pause</button>` : html`<button data-action="resume_periodic" onClick=${() => act('resume_periodic', { name: e.name }, setFlash)}>resume</button>`}</td>` : null}
            </tr>`,
        )}
      </tbody>
    </table>
    ${data.leader ? html`<p class="meta">sending: ${data.leader}</p>` : null}`;
}

function App() {
  const [r, setR] = useState(route());
  const [tick, setTick] = useState(0);
  const [flash, setFlash] = useState(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const on = () => setR(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // What each page refreshes on: task changes, worker changes, or the queue reads (every few seconds).
  const page = r.page;
  useEffect(() => {
    const wants =
      { tasks: 'task', task: 'task', workers: 'worker', queues: 'queues', periodic: 'queues' }[page] ?? 'task';
    let pending = null;
    const es = new EventSource('api/stream');
    // Refetch once the stream is open (first time and after every reconnect): a change that happened
    // between the page's first fetch and the stream's start was never announced on it.
    es.onopen = () => {
      setLive(true);
      setTick((t) => t + 1);
    };
    es.onerror = () => setLive(false);
    es.onmessage = (m) => {
      if (pending || !JSON.parse(m.data).some((u) => u.kind === wants)) return;
      pending = setTimeout(() => {
        pending = null;
        setTick((t) => t + 1);
      }, 500);
    };
    return () => {
      es.close();
      clearTimeout(pending);
    };
  }, [page]);
  const say = useCallback((f) => {
    setFlash(f);
    setTick((t) => t + 1);
  }, []);
  const pages = { tasks: 'Tasks', workers: 'Workers', queues: 'Queues', periodic: 'Periodic' };
  let view;
  if (r.page === 'task') view = html`<${TaskDetail} id=${r.arg} tick=${tick} setFlash=${say} />`;
  else if (r.page === 'workers') view = html`<${Workers} tick=${tick} setFlash=${say} />`;
  else if (r.page === 'queues') view = html`<${Queues} tick=${tick} setFlash=${say} />`;
  else if (r.page === 'periodic') view = html`<${Periodic} tick=${tick} setFlash=${say} />`;
  else view = html`<${Tasks} tick=${tick} setFlash=${say} />`;
  return html`<header>
      <h1>taskq</h1>
      <nav>
        ${Object.entries(pages).map(([k, v]) => html`<a href=${`#/${k}`} class=${r.page === k ? 'active' : ''}>${v}</a>`)}
      </nav>
      <span class="meta" data-testid="live" data-live=${String(live)}
        >${live ? '● live' : '○ connecting'} · ${session.broker}${session.readOnly ? ' · read-only' : ''}</span
      >
    </header>
    <main><${Flash} flash=${flash} />${view}</main>`;
}

getJson('api/session').then(
  (s) => {
    session = s;
    const root = document.getElementById('app');
    root.textContent = '';
    render(html`<${App} />`, root);
  },
  (err) => {
    document.getElementById('app').textContent = `Cannot start the dashboard: ${err}`;
  },
);

/* Requests the checks make of the portal: entity counts, a load loop, tasks. */
const { sleep } = require('./procs.cjs');

async function countEntities(base, token, filter) {
  const q = new URLSearchParams({ limit: '1' });
  if (filter) q.set('filter', filter);
  const res = await fetch(`${base}/api/catalog/entities/by-query?${q}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200)
    throw new Error(`entity count answered ${res.status}`);
  return (await res.json()).totalItems;
}

/**
 * Runs `request` from `concurrency` loops until `stop()` is called; records
 * each outcome with its time. `request` resolves true on success.
 */
function loadLoop(request, concurrency = 4) {
  const results = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const at = Date.now();
      let ok = false;
      let error;
      try {
        ok = await request();
      } catch (e) {
        error = e.message;
      }
      results.push({ at, end: Date.now(), ok, error });
      if (!ok) await sleep(50);
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

const catalogRead = (base, token) => async () => {
  const res = await fetch(
    `${base}/api/catalog/entities/by-query?limit=20&filter=kind=user`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  );
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return true;
};

async function getTask(base, token, taskId) {
  const res = await fetch(`${base}/api/scaffolder/v2/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200)
    throw new Error(`task ${taskId} answered ${res.status}`);
  return res.json();
}

async function taskEvents(base, token, taskId) {
  const res = await fetch(`${base}/api/scaffolder/v2/tasks/${taskId}/events`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`task events answered ${res.status}`);
  return res.json();
}

async function createTask(base, token, templateRef, values) {
  const res = await fetch(`${base}/api/scaffolder/v2/tasks`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ templateRef, values }),
  });
  const text = await res.text();
  if (res.status !== 201)
    throw new Error(
      `task creation answered ${res.status}: ${text.slice(0, 300)}`,
    );
  return JSON.parse(text).id;
}

/** `2x HTTP 502, 1x fetch failed`: what the failed requests saw. */
function errorKinds(results) {
  const kinds = {};
  for (const r of results.filter(x => !x.ok)) {
    const k = (r.error ?? 'unsuccessful').slice(0, 100);
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  return Object.entries(kinds)
    .map(([k, n]) => `${n}x ${k}`)
    .join(', ');
}

module.exports = {
  errorKinds,
  countEntities,
  loadLoop,
  catalogRead,
  getTask,
  taskEvents,
  createTask,
};

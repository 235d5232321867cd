/*
 * Everything the harness starts registers how to stop it here, so that a
 * failure, an exception or Ctrl-C stops it all (last started, first stopped)
 * and nothing is left running on this machine.
 */
const cleanups = [];
let cleaning;
// Set once cleanup has begun: checks still running must not start anything.
let stopping = false;

/** Registers `fn` to run at cleanup; returns a function that runs it early (once). */
function onCleanup(name, fn) {
  const entry = { name, fn, done: false };
  cleanups.push(entry);
  return async () => {
    if (entry.done) return;
    entry.done = true;
    await fn();
  };
}

async function cleanupAll() {
  stopping = true;
  if (!cleaning) {
    cleaning = (async () => {
      while (cleanups.length) {
        const entry = cleanups.pop();
        if (entry.done) continue;
        entry.done = true;
        try {
          await entry.fn();
        } catch (error) {
          console.error(`   cleanup of ${entry.name} failed: ${error.message}`);
        }
      }
    })();
  }
  return cleaning;
}

/** Ctrl-C / SIGTERM: stop everything, then exit non-zero. */
function stopOnSignals() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, async () => {
      console.error(`\n${signal}: stopping everything the harness started`);
      await cleanupAll();
      process.exit(130);
    });
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws `what` after `timeoutMs`. */
async function waitFor(what, fn, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (stopping) throw new Error(`stopped while waiting for ${what}`);
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const isStopping = () => stopping;

module.exports = {
  isStopping,
  onCleanup,
  cleanupAll,
  stopOnSignals,
  sleep,
  waitFor,
};

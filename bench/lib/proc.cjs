/*
 * /proc readings of a process and its children, for the benches: the
 * backend may run its work in child processes, so CPU adds up over the tree
 * and peak memory is the largest of them. Linux only.
 */
const fs = require('node:fs');

// Clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on Linux).
const CLK_TCK = 100;

function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of fs.readdirSync(`/proc/${pids[i]}/task`)) {
        const children = fs
          .readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8')
          .trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      /* gone */
    }
  }
  return pids;
}

function procStatus(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = key => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1]);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** User + system CPU time of the process tree, in ms. */
function cpuMs(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Resident memory (kB) summed over the tree, and the largest peak (VmHWM). */
function memory(pid) {
  let rss = 0;
  let hwm = 0;
  for (const p of processTree(pid)) {
    const s = procStatus(p);
    if (s) {
      rss += s.rss;
      hwm = Math.max(hwm, s.hwm);
    }
  }
  return { rss, hwm };
}

module.exports = { cpuMs, memory };

/*
 * Debian's haproxy in front of the replicas: round robin, an HTTP health
 * check on the readiness route, short inter/fall/rise so a killed replica
 * leaves the pool within a second or two. Loopback only; the config is
 * generated into the run's temp dir.
 */
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { freePort } = require('./ports.cjs');
const { waitFor } = require('./procs.cjs');

function haproxyConfig({ port, servers, statsSocket }) {
  return `global
  maxconn 4096
  stats socket ${statsSocket} mode 600 level admin

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # A request whose connection to a dead replica fails goes to another one,
  # and so does one the replica dropped without answering (killed while it
  # held the request); the backend section keeps POSTs from being sent twice.
  option redispatch
  retries 2
  retry-on conn-failure empty-response

frontend portal
  bind 127.0.0.1:${port}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /.backstage/health/v1/readiness
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
  # Only reads are sent again after a replica dropped them.
  http-request disable-l7-retry if METH_POST
${servers.map(s => `  server ${s.name} 127.0.0.1:${s.port} check`).join('\n')}
`;
}

async function startHaproxy({ dir, servers }) {
  const port = await freePort();
  const statsSocket = path.join(dir, 'haproxy.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(configFile, haproxyConfig({ port, servers, statsSocket }));
  execFileSync('haproxy', ['-c', '-q', '-f', configFile]);
  const child = spawn('haproxy', ['-db', '-f', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', d => (output += d));
  child.stderr.on('data', d => (output += d));
  const url = `http://localhost:${port}`;

  /** haproxy's own view: `show stat` over its admin socket, per server. */
  const showStat = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(statsSocket);
      let text = '';
      socket.on('data', d => (text += d));
      socket.on('error', reject);
      socket.on('end', () => resolve(text));
      socket.write('show stat\n');
    });
  const serverStates = async () => {
    const lines = (await showStat()).trim().split('\n');
    const header = lines[0].replace(/^# /, '').split(',');
    return lines
      .slice(1)
      .map(l => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])))
      .filter(r => r.pxname === 'replicas' && r.svname !== 'BACKEND')
      .map(r => ({
        name: r.svname,
        status: r.status,
        requests: Number(r.stot),
      }));
  };
  await waitFor('haproxy to listen', () => fs.existsSync(statsSocket), 10_000);
  return {
    url,
    port,
    version: execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split(
      '\n',
    )[0],
    serverStates,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise(r => child.once('exit', r));
      }
    },
  };
}

module.exports = { startHaproxy };

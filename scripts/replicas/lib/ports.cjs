/* Free loopback ports and the process that owns a local port (ss). */
const net = require('node:net');
const { execFileSync } = require('node:child_process');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The pid of the process whose TCP socket has local port `port`: which
 * replica opened a connection the emulator or Redis sees from that port.
 */
function pidOfLocalPort(port) {
  const out = execFileSync(
    'ss',
    ['-Htnp', 'state', 'established', `sport = :${port}`],
    {
      encoding: 'utf8',
    },
  );
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

module.exports = { freePort, pidOfLocalPort };

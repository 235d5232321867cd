// ${{ values.name }}: answers every request with its name.
const http = require('node:http');

const port = Number(process.env.PORT ?? 8080);
http
  .createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: '${{ values.name }}' }));
  })
  .listen(port, () => console.log(`listening on ${port}`));

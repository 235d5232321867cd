import { Request, Response } from 'express';

/** Rewrites a JSON answer; gets the status and the parsed body. */
export type JsonTransform = (status: number, body: any) => Promise<any> | any;

/**
 * Holds back what the catalog writes for this response, then sends
 * `transform`'s result instead. The catalog streams entity lists
 * (`res.write` per entity, `flushHeaders` first), so the whole answer is
 * collected before anything reaches the caller; only callers whose reads
 * are filtered pay for that.
 *
 * When `transform` fails, the caller gets a 500 without the held-back body:
 * answering with unfiltered data is never the fallback.
 */
export function interceptJson(
  req: Request,
  res: Response,
  transform: JsonTransform,
): void {
  // A conditional GET would compare an ETag computed over the unfiltered body.
  delete req.headers['if-none-match'];
  delete req.headers['if-modified-since'];

  const chunks: Buffer[] = [];
  const original = {
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  const toBuffer = (chunk: any, encoding: unknown) =>
    Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(
          chunk,
          typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
        );
  const restore = () => {
    res.write = original.write;
    res.end = original.end;
    res.flushHeaders = original.flushHeaders;
  };

  res.flushHeaders = () => {};
  res.write = ((chunk: any, encoding?: any, cb?: any) => {
    if (chunk !== undefined && chunk !== null) {
      chunks.push(toBuffer(chunk, encoding));
    }
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  }) as Response['write'];
  res.end = ((...args: any[]) => {
    const cb = args.find(a => typeof a === 'function');
    const [chunk, encoding] = args.filter(a => typeof a !== 'function');
    if (chunk !== undefined && chunk !== null) {
      chunks.push(toBuffer(chunk, encoding));
    }
    restore();
    const raw = Buffer.concat(chunks);
    const type = String(res.getHeader('content-type') ?? '');
    if (raw.length === 0 || !type.includes('json')) {
      return res.end(raw, cb);
    }
    const send = (status: number, payload: unknown) => {
      const body = Buffer.from(JSON.stringify(payload), 'utf8');
      res.statusCode = status;
      res.removeHeader('etag');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('content-length', body.length);
      res.end(body, cb);
    };
    Promise.resolve()
      .then(() => transform(res.statusCode, JSON.parse(raw.toString('utf8'))))
      .then(
        out => send(res.statusCode, out),
        () =>
          send(500, {
            error: {
              name: 'Error',
              message:
                'The catalog answer could not be checked against your read permissions; try again',
            },
            response: { statusCode: 500 },
          }),
      );
    return res;
  }) as Response['end'];
}

import { crc32, deflateSync } from 'node:zlib';
import { createHash } from 'node:crypto';

/** Sizes Graph lists for a profile photo. */
export const PHOTO_SIZES = [48, 64, 96, 120, 240];

const cache = new Map<string, Buffer>();

/**
 * A small PNG in a colour derived from the user id: enough for avatars to
 * differ between people without shipping image files.
 */
export function generatePhoto(userId: string, size: number): Buffer {
  const key = `${userId}/${size}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const [r, g, b] = createHash('sha256').update(userId).digest();
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  cache.set(key, png);
  return png;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([len, typed, crc]);
}

// A minimal PNG encoder (8-bit grayscale or RGB, no interlace) over node:zlib, so that pictures
// a command writes (detections drawn on an image) need no image library. Decoding user images
// is left to maintained packages.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG bytes of 8-bit pixels, row-major and interleaved (channels 1: grayscale, 3: RGB). */
export function encodePngPixels(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 = 3): Buffer {
  if (pixels.length !== channels * width * height) {
    throw new Error(`encodePngPixels: ${pixels.length} bytes for ${width} x ${height} pixels of ${channels} channel(s)`);
  }
  const rowBytes = 1 + channels * width; // each row starts with filter type 0 (none)
  const raw = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * channels * width, (y + 1) * channels * width), y * rowBytes + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = channels === 1 ? 0 : 2; // grayscale or truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/**
 * PNG bytes of an image given as planes [channels, height, width] of values in [0, 1]
 * (channels 1: grayscale, 3: RGB), the layout of an image tensor without its batch axis.
 */
export function encodePng(planes: ArrayLike<number>, channels: 1 | 3, height: number, width: number): Buffer {
  if (planes.length !== channels * height * width) {
    throw new Error(`encodePng: ${planes.length} values for ${channels} x ${height} x ${width}`);
  }
  const pixels = new Uint8Array(channels * height * width);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) {
      const v = planes[c * plane + p];
      pixels[p * channels + c] = Math.round(255 * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)));
    }
  }
  return encodePngPixels(pixels, width, height, channels);
}

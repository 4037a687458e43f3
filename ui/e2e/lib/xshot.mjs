// Screenshots read from Xvfb's own framebuffer (`Xvfb -fbdir`), for window sizes where
// WebKitWebDriver's snapshot stalls (a portrait window taller than about 1160 px under
// Xvfb). The framebuffer is an XWD image; this crops the window out and writes a PNG.
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** Encodes RGB rows (width × height × 3 bytes) as a PNG. */
export function encodePng(width, height, rgb) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    rgb.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Crops `rect` out of an XWD framebuffer file (24-bit depth, 32 bits per pixel). */
export function xwdToPng(xwdPath, rect, outPath) {
  const b = readFileSync(xwdPath);
  const u = (i) => b.readUInt32BE(i * 4);
  const headerSize = u(0);
  const [width, height] = [u(4), u(5)];
  const lsb = u(7) === 0;
  const bpp = u(11);
  const bytesPerLine = u(12);
  const ncolors = u(19);
  if (bpp !== 32) throw new Error(`framebuffer has ${bpp} bits per pixel; start Xvfb with depth 24`);
  const data = headerSize + ncolors * 12;
  const x0 = Math.max(0, rect.x);
  const y0 = Math.max(0, rect.y);
  const w = Math.min(rect.width, width - x0);
  const h = Math.min(rect.height, height - y0);
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = data + (y0 + y) * bytesPerLine + (x0 + x) * 4;
      const o = (y * w + x) * 3;
      if (lsb) {
        rgb[o] = b[p + 2];
        rgb[o + 1] = b[p + 1];
        rgb[o + 2] = b[p];
      } else {
        rgb[o] = b[p + 1];
        rgb[o + 1] = b[p + 2];
        rgb[o + 2] = b[p + 3];
      }
    }
  }
  writeFileSync(outPath, encodePng(w, h, rgb));
}

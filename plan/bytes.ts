// Byte counts as people read them, in binary units: device limits are powers of two
// (a 128 MiB binding reads better than 134 MB). One formatter for every size message.

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** 512 bytes, 1.50 KiB, 128 MiB, 1.40 TiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  let v = n;
  let i = -1;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = Number.isInteger(v) ? v.toFixed(0) : v >= 100 ? v.toFixed(0) : v.toPrecision(3);
  return `${digits} ${UNITS[i]}`;
}

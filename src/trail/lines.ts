import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

const CHUNK = 4 * 1024 * 1024

/**
 * Calls `onLine` for every newline-terminated line of a file, with the line's bytes (without the
 * newline; a view valid during the call) and its byte offset. Reads in 4 MiB chunks, so a trail
 * of any size streams in constant memory. Returns the offset after the last whole line: bytes
 * past it are a torn tail.
 */
export function forEachLine (file: string, onLine: (line: Buffer, offset: number) => void, onProgress?: (bytes: number, total: number) => void): { end: number, total: number } {
  const fd = openSync(file, 'r')
  try {
    const total = fstatSync(fd).size
    let buf = Buffer.allocUnsafe(CHUNK)
    let have = 0
    let base = 0
    let pos = 0
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2)
        buf.copy(bigger, 0, 0, have)
        buf = bigger
      }
      const n = readSync(fd, buf, have, buf.length - have, pos)
      if (n === 0) break
      pos += n
      have += n
      let start = 0
      for (;;) {
        const nl = buf.indexOf(0x0a, start)
        if (nl === -1 || nl >= have) break
        onLine(buf.subarray(start, nl), base + start)
        start = nl + 1
      }
      buf.copy(buf, 0, start, have)
      base += start
      have -= start
      onProgress?.(pos, total)
    }
    return { end: base, total }
  } finally {
    closeSync(fd)
  }
}

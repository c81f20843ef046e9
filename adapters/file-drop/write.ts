import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Writes a file so that a reader sees either nothing or all of it: a hidden temporary name in the
 * same folder (a rename across file systems is not atomic), flushed, then renamed, then the folder
 * flushed so the new name survives a power cut.
 */
export function writeAtomic (dir: string, name: string, data: Uint8Array): void {
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o640)
  try {
    let off = 0
    while (off < data.length) off += writeSync(fd, data, off)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  renameSync(tmp, join(dir, name))
  syncDir(dir)
}

export function syncDir (dir: string): void {
  const fd = openSync(dir, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

/** Moves `name` from one folder to another without overwriting: a clash gets a numbered name. */
export function moveInto (fromDir: string, name: string, toDir: string): string {
  let target = name
  for (let n = 1; existsSync(join(toDir, target)); n++) target = `${name}.${n}`
  renameSync(join(fromDir, name), join(toDir, target))
  return target
}

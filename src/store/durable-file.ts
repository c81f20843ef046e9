import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'

/**
 * Makes the directory entries of `dir` durable (a file created or renamed in it survives a crash),
 * off the event loop.
 */
export async function syncDirectory (dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

/** Buffers one `writev` takes (IOV_MAX on Linux); more would be several writes. */
const MAX_PARTS = 1024

/**
 * A file opened for durable appends. Where the platform has `O_DSYNC` (Linux, macOS) the file is
 * opened with it, so each write returns only once its bytes are on disk: one system call per
 * group-committed batch instead of a write and an `fdatasync`, and one trip through the thread
 * pool instead of two. Elsewhere `sync()` calls `fdatasync`.
 */
export class DurableFile {
  private constructor (readonly fh: FileHandle, private readonly needsSync: boolean) {}

  /** Opens `file` for appending; without `durable` (tests only) nothing waits for the disk. */
  static async open (file: string, durable: boolean): Promise<DurableFile> {
    const dsync = (constants as { O_DSYNC?: number }).O_DSYNC
    if (!durable) return new DurableFile(await open(file, 'a'), false)
    if (dsync === undefined) return new DurableFile(await open(file, 'a'), true)
    return new DurableFile(await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | dsync, 0o644), false)
  }

  /** Writes all of `buf` at the end of the file; resolves once it is durable (when opened so). */
  async append (buf: Uint8Array): Promise<void> {
    let written = 0
    while (written < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, written, buf.length - written)
      written += bytesWritten
    }
    if (this.needsSync) await this.fh.datasync()
  }

  /**
   * Writes `parts` one after the other at the end of the file, with one system call where the
   * platform takes that many buffers at once (a durable file then waits for the disk once).
   * `length` is their total size.
   */
  async appendParts (parts: Uint8Array[], length: number): Promise<void> {
    if (parts.length === 1) return await this.append(parts[0])
    if (parts.length > MAX_PARTS) return await this.append(Buffer.concat(parts, length))
    const { bytesWritten } = await this.fh.writev(parts)
    if (bytesWritten < length) {
      // A short write (a full disk, a signal): the rest as one buffer, from where it stopped.
      await this.append(Buffer.concat(parts, length).subarray(bytesWritten))
      return
    }
    if (this.needsSync) await this.fh.datasync()
  }

  async truncate (length: number): Promise<void> {
    await this.fh.truncate(length)
  }

  async close (): Promise<void> {
    await this.fh.close()
  }
}

import type { Redis } from 'ioredis'
import type { Jwk, Jwks } from '../crypto/jwk.js'

/**
 * The JWKS of a cluster. Each hub process publishes its own public keys in Redis, and every process
 * serves the union, so a receipt or seal signed by any process verifies with the JWKS fetched
 * from any other — even when the processes were started with keys of their own.
 */
export class SharedJwks {
  private cached: Jwks
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly redis: Redis, private readonly key: string, private readonly own: () => Jwks) {
    this.cached = own()
  }

  /** Publishes this process's keys, then reads everyone's. */
  async start (refreshMs = 30_000): Promise<void> {
    const mine = this.own().keys
    if (mine.length > 0) await this.redis.hset(this.key, Object.fromEntries(mine.map((k) => [String(k.kid), JSON.stringify(k)])))
    await this.refresh()
    this.timer = setInterval(() => { this.refresh().catch(() => { /* keep the last union until Redis answers */ }) }, refreshMs)
    this.timer.unref()
  }

  async refresh (): Promise<void> {
    const all = await this.redis.hgetall(this.key)
    const mine = this.own().keys
    const seen = new Set(mine.map((k) => k.kid))
    const others = Object.values(all).map((v) => JSON.parse(v) as Jwk).filter((k) => !seen.has(k.kid))
    this.cached = { keys: [...mine, ...others] }
  }

  current (): Jwks {
    return this.cached
  }

  stop (): void {
    clearInterval(this.timer)
  }
}

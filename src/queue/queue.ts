/** One delivery to make: which message, and which attempt this is. */
export interface DeliveryJob {
  sender: string
  messageId: string
  /** 1-based attempt number. */
  attempt: number
  /** `sha256:<hex>` of the body, so a queue can refuse a job id reused for other content. */
  digest: string
}

/**
 * What a handler may answer instead of finishing the job: give it back, to be handed out again
 * after `laterMs`. The job stays pending under its id meanwhile (an `add` of it is still a no-op)
 * and nothing is counted against it: this is for a job that cannot start yet, not a failed attempt.
 */
export interface Later { laterMs: number }

export type JobHandler = (job: DeliveryJob) => Promise<void | Later>

/** The delay of a handler's answer, or undefined when the job is finished. */
export function laterOf (outcome: void | Later): number | undefined {
  return outcome === undefined ? undefined : Math.max(0, Math.round(outcome.laterMs))
}

/**
 * The port between intake and delivery. Implementations: the embedded in-process queue (state in
 * the journal) and, in cluster mode, BullMQ (the default) or the hub's own on a Redis stream
 * (`redis-streams.ts`). All pass `test/queue/contract.ts`.
 *
 * In the contract: a job added is handed to the handler once per `add`, not before its delay;
 * adding a job for the same message and attempt while it is pending is a no-op; a job the handler
 * gives back ({@link Later}) is handed out again after its delay, still pending meanwhile; `close`
 * stops handing out jobs and waits for the running handlers.
 *
 * Not in the contract: durability across a crash (the embedded driver rebuilds its jobs from the
 * message store at start; the Redis drivers keep them in Redis), ordering between jobs, and retries — the
 * delivery worker decides retries and adds the next attempt itself, so both drivers back off alike.
 */
export interface DeliveryQueue {
  add: (job: DeliveryJob, opts?: { delayMs?: number }) => Promise<void>
  /** Starts handing jobs to `handler`, at most `concurrency` at once. */
  process: (handler: JobHandler, concurrency: number) => void
  /** Jobs added and not yet finished (waiting, delayed or running). */
  size: () => number
  /** The Redis drivers: jobs waiting, delayed or running in the whole cluster, read from Redis. */
  count?: () => Promise<number>
  close: () => Promise<void>
}

export function jobId (job: Pick<DeliveryJob, 'sender' | 'messageId' | 'attempt'>): string {
  return `${job.sender}\u0000${job.messageId}\u0000${job.attempt}`
}

/** `p`, or a rejection naming `what` when Redis has not answered within `ms`. */
export async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!await within(p, ms)) throw new Error(`${what}: no answer from Redis in ${ms} ms`)
  return await p
}

/** Whether `p` settled (either way) within `ms`; `p` goes on regardless. */
export async function within (p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = p.then(() => true, () => true)
  try {
    return await Promise.race([settled, new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

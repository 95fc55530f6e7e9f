import { createHash } from 'node:crypto'
import { MAX_ID_LENGTH } from '../../domain/validate.ts'
import { answerOfReply, type DecisionAnswer } from './decision-answers.ts'

/** A reply record's text, classified once (a 200's body is the text itself). */
export interface Reply {
  readonly text: string
  readonly answer: DecisionAnswer
  /** The detector's notice that it had seen the transaction id before. */
  readonly duplicate: boolean
}

export function replyOf(text: string, id: string | null): Reply {
  const answer = answerOfReply(text, id)
  return { text, answer, duplicate: answer.status === 409 }
}

/** An event sent (or found pending) and its reply, awaited by every request for its transaction id. */
export class Waiter {
  /** Resolves with the reply; rejects when the send failed. */
  readonly reply: Promise<Reply>
  got: Reply | null = null
  failed = false
  #resolve!: (reply: Reply) => void
  #reject!: (error: unknown) => void

  constructor(
    readonly correlationId: string,
    readonly transactionId: string | null,
    readonly fingerprint: string,
    readonly receivedAtMs: number,
    readonly expiresAt: number
  ) {
    this.reply = new Promise<Reply>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.reply.catch(() => {}) // a failure no request waits for is not unhandled
  }

  settle(reply: Reply): void {
    this.got = reply
    this.#resolve(reply)
  }

  fail(error: unknown): void {
    this.failed = true
    this.#reject(error)
  }
}

export const LATE = Symbol('late')

/** `p`, or LATE once `deadline` (by `now`) passed. */
export async function before<T>(
  p: Promise<T>,
  deadline: number,
  now: () => number
): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<typeof LATE>(resolve => {
    timer = setTimeout(() => resolve(LATE), Math.max(0, deadline - now()))
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** The idempotency key: the event's transaction_id when it is one (a string of 1-256 characters). */
export function transactionIdOf(event: Record<string, unknown>): string | null {
  const id = Object.hasOwn(event, 'transaction_id') ? event.transaction_id : undefined
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : null
}

/** Digest of the event as parsed (so whitespace and number spelling do not count, key order does). */
export function digest(event: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(event)).digest('base64url').slice(0, 22)
}

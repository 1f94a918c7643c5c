/**
 * Requests to workers that are answered by a later message carrying the same
 * id (status, list hand-overs). Every request has a deadline; a request that
 * times out is removed, so a worker that never answers leaks nothing.
 */
export class PendingRequests<A> {
  private next = 1
  private readonly waiting = new Map<number, (answer: A) => void>()

  /** `send` sends the request with its id; `onTimeout` is the answer given after `timeoutMs`. */
  ask<T extends A>(send: (requestId: number) => void, timeoutMs: number, onTimeout: () => T): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        resolve(onTimeout())
      }, timeoutMs)
      this.waiting.set(id, (answer) => {
        clearTimeout(timer)
        this.waiting.delete(id)
        resolve(answer as T)
      })
      send(id)
    })
  }

  answer(requestId: number, answer: A): void {
    this.waiting.get(requestId)?.(answer)
  }

  /** Requests still waiting (for tests and the leak check). */
  get size(): number {
    return this.waiting.size
  }
}

/**
 * @file The device queue and the life of one request's device work. Work runs one request at a
 * time in arrival order (timings stay honest, a batch's calls see each other's kept buffers), and
 * each request's work can be cancelled: when its client goes away, when it passes its deadline
 * (`limits.requestMs`, waiting in the queue included), or when the server shuts down. Cancelled work
 * that has not started is dropped; running work stops where the device checks (between loop
 * iterations); and every buffer the request kept is freed, since nobody will learn its handle.
 * Each session may have `limits.sessionQueued` requests queued or running; past that, a 429.
 */
import type { FastifyReply } from 'fastify';
import { TimeoutError } from '../ir/errors.js';
import { cancellation } from '../runtime/device.js';
import type { Session } from './sessions.js';
import type { BufferStore, Limits } from './state.js';
import { HttpError } from './errors.js';

/** What a request's calls need to be cancellable: its signal, and the handles it kept so far. */
export interface WorkContext {
  signal: AbortSignal;
  /** Handles of buffers kept by this request; freed if it fails or its client is gone. */
  kept: string[];
}

/** The part of the server's state (`KilnState`) that queued work answers to: the request's session and buffers, and the limits. */
export interface WorkOwner {
  session: Session;
  buffers: BufferStore;
  limits: Limits;
}

/** Requests with device work queued or running, so that shutdown can cancel them. */
export class WorkQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly live = new Set<AbortController>();
  /** Requests whose work was cancelled (client gone, deadline, shutdown) since start. */
  cancelled = 0;

  /** Requests queued or running now. */
  get pending(): number {
    return this.live.size;
  }

  /**
   * Runs `work` after the work queued before it, unless the request is cancelled first. Frees the
   * buffers the request kept when it fails, or when its client went away while it ran.
   */
  async run<T>(state: WorkOwner, reply: FastifyReply, what: string, work: (ctx: WorkContext) => Promise<T>): Promise<T> {
    const { session } = state;
    if (session.pending >= state.limits.sessionQueued) {
      throw new HttpError('KILN_ERR_QUOTA', `${what}: ${session.usage.owner} has ${session.pending} requests queued or running, its quota (sessionQueued); wait for their replies`);
    }
    session.pending++;
    const ctl = new AbortController();
    const ctx: WorkContext = { signal: ctl.signal, kept: [] };
    let gone = false;
    // 'close' on the response before it finished: the connection dropped, nobody reads the reply.
    const onClose = () => {
      if (reply.raw.writableFinished) return;
      gone = true;
      ctl.abort(new TimeoutError(`${what}: the client went away; its work was dropped`));
    };
    reply.raw.once('close', onClose);
    const own = session.deadlineMs !== undefined && session.deadlineMs < state.limits.requestMs;
    const ms = own ? session.deadlineMs! : state.limits.requestMs;
    const deadline = Date.now() + ms;
    const late = () => new TimeoutError(`${what}: the request passed ${own ? `its session's deadline` : 'its deadline'} of ${ms} ms (time in the queue included)`);
    const timer = setTimeout(() => ctl.abort(late()), ms);
    this.live.add(ctl);
    const start = () => {
      // Checked here too: work that blocks the event loop (a reference run) keeps the timer from firing.
      if (Date.now() > deadline) ctl.abort(late());
      const stop = cancellation(ctx.signal);
      if (stop) throw stop;
      return work(ctx);
    };
    const next = this.tail.then(start, start);
    this.tail = next.catch(() => undefined);
    try {
      const out = await next;
      // Finished, but for nobody: what it kept would never be freed. (A deadline that passed after
      // the run's last check still gets its result.)
      if (gone) throw cancellation(ctx.signal)!;
      return out;
    } catch (e) {
      if (ctx.signal.aborted) this.cancelled++;
      for (const h of ctx.kept) state.buffers.delete(h);
      throw e;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      this.live.delete(ctl);
      session.pending--;
      // A long run counts as use: the session's idle time starts when its work ends.
      session.usedAt = Date.now();
    }
  }

  /** Cancels every queued and running request (server shutdown) and waits for the queue to settle. */
  async cancelAll(reason: string): Promise<void> {
    for (const ctl of this.live) ctl.abort(new TimeoutError(reason));
    await this.tail;
  }
}

/**
 * @file Calls whose inputs were still being produced when they were made: they reach
 * `device.execute` later, after some awaits. A buffer disposed meanwhile must outlive them, so
 * frees wait for the calls in flight at the time of the dispose.
 */

const inflight = new Set<Promise<unknown>>();

/** Registers a call that will execute later; it leaves the set once it has been enqueued. */
export function track<T>(p: Promise<T>): Promise<T> {
  inflight.add(p);
  const done = () => { inflight.delete(p); };
  p.then(done, done);
  return p;
}

/** Settles once every call in flight now has reached its device (or failed); undefined when none is. */
export function afterCallsInFlight(): Promise<unknown> | undefined {
  return inflight.size ? Promise.allSettled([...inflight]) : undefined;
}

/**
 * @file Per-kernel GPU times of one call (`profile: true` on /execute, /run and each call of
 * /batch): the device's timer is turned on for that run only and its profile taken after it.
 *
 * The device's profiler is a mode, not a per-run option (`Device.profile(on)` applies to the runs
 * queued after it), so this is only race-free because the server runs device work one request at
 * a time (`KilnState.work`): between `start` and `stop` no other request's run is queued.
 */
import type { Device, KernelTime, RunProfile } from '../runtime/device.js';

/** A run's kernel times as they go on the wire (the per-dispatch intervals stay on the server). */
export interface ProfileReply {
  /** Time at least one kernel was executing, ms. */
  busyMs: number;
  /** First dispatch's start to last dispatch's end, ms. */
  spanMs: number;
  /** Every kernel of the program in program order (WGSL names, as in GET /executables/:id). */
  kernels: KernelTime[];
}

/** The last profile of a cached executable, with the time it was taken (ms since the epoch). */
export interface KernelTimes extends ProfileReply {
  at: number;
}

/** The profile fields of a call's reply: `profile`, or `profile: null` and why there is none. */
export interface ProfileFields {
  profile?: ProfileReply | null;
  profileUnavailable?: string;
}

/** Times the runs of one call, between `start` (before its run is queued) and `stop`. */
export class CallProfiler {
  /** Why this call's run cannot be timed; undefined while the device's timer is on. */
  readonly unavailable: string | undefined;

  private constructor(private readonly device: Device) {
    if (!device.profile || !device.takeProfiles) {
      this.unavailable = `the ${device.kind} device does not time kernels (only a WebGPU device with timestamp-query does)`;
      return;
    }
    // Profiles nobody asked for (a failed run's, another server's on a shared device) are dropped,
    // so the one taken after this run is this run's.
    device.takeProfiles();
    if (!device.profile(true)) {
      this.unavailable = `the adapter '${device.info().adapter}' has no timestamp-query feature`;
    }
  }

  /** Turns the device's timer on for the runs queued from now on. */
  static start(device: Device): CallProfiler {
    return new CallProfiler(device);
  }

  /**
   * The profile of the run of `executable` that finished since `start` (call after `device.sync()`):
   * the reply fields and the wire profile, or null with the reason when there is none.
   */
  take(executable: string): { fields: ProfileFields; profile?: ProfileReply } {
    if (this.unavailable !== undefined) return { fields: { profile: null, profileUnavailable: this.unavailable } };
    const mine = (this.device.takeProfiles?.() ?? []).filter((p) => p.executable === executable);
    const last = mine[mine.length - 1];
    if (!last) return { fields: { profile: null, profileUnavailable: 'the device returned no timestamps for this run' } };
    const profile = toReply(last);
    return { fields: { profile }, profile };
  }

  /**
   * Turns the timer off again. After a failed run its profile may still be read back: wait for the
   * device and drop it, so the next profiled call takes only its own.
   */
  async stop(failed: boolean): Promise<void> {
    if (this.unavailable !== undefined) return;
    this.device.profile?.(false);
    if (!failed) return;
    await this.device.sync().catch(() => undefined);
    this.device.takeProfiles?.();
  }
}

function toReply(p: RunProfile): ProfileReply {
  return { busyMs: p.busyMs, spanMs: p.spanMs, kernels: p.kernels.map((k) => ({ name: k.name, dispatches: k.dispatches, ms: k.ms })) };
}

/** JSON schema of `kernelTimes` in GET /executables/:id (null until a profiled run). */
export const kernelTimesSchema = {
  type: ['object', 'null'],
  required: ['at', 'busyMs', 'spanMs', 'kernels'],
  properties: {
    at: { type: 'number' },
    busyMs: { type: 'number' },
    spanMs: { type: 'number' },
    kernels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'dispatches', 'ms'],
        properties: { name: { type: 'string' }, dispatches: { type: 'integer' }, ms: { type: 'number' } },
      },
    },
  },
} as const;

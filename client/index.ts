/**
 * @file The `kiln` package: trace TypeScript functions over arrays into StableHLO, compile them
 * once per input signature, and run them on the local GPU (WebGPU through Dawn), the reference
 * interpreter, or a remote kiln server.
 *
 * ```ts
 * import { jit, grad, numpy as np, nn } from 'kiln';
 * const f = jit((x, w) => nn.relu(np.matmul(x, w)));
 * const y = f(np.array([[1, 2], [3, 4]]), np.ones([2, 2]));
 * console.log(await y.data());
 * ```
 */
import * as numpy from './numpy/index.js';
import * as nn from './nn.js';
import * as random from './random/index.js';
import * as lax from './lax/index.js';

export { numpy, numpy as np, nn, random, lax };
export { KArray as Array, type TypedArrayFor } from './array.js';
export { jit, lower, type Jitted, type JitOptions, type Lowered } from './jit.js';
export { grad, valueAndGrad, vjp, type GradOptions } from './autodiff/index.js';
export { vjpWithAux } from './autodiff/index.js';
export { jvp, linearize } from './autodiff/forward.js';
export { customVjp, customJvp, checkpoint, remat, type CustomVjpFunction, type CustomJvpFunction } from './autodiff/custom.js';
export { jacfwd, jacrev, jacobian, hessian, type JacobianOptions } from './autodiff/jacobian.js';
export { vmap } from './vmap/index.js';
export { setDefaultDevice, getDefaultDevice, devices, ready } from './devices.js';
export { connect, RemoteDevice, type ConnectOptions } from './remote.js';
export { TraceError } from './site.js';
export { ConcretizationError } from './array.js';
export { stats, type AbstractValue } from './trace.js';
export { treeMap } from './pytree.js';
export { load, save, type LoadOptions, type SaveOptions } from './io.js';
export type { Device, DeviceInfo } from '../runtime/device.js';
export type { SupportedDType as DType } from '../ir/dtype.js';
export { KilnError, InputError, DeviceError, UnsupportedOpError, VerifyError, ParseError } from '../ir/errors.js';
export type { VmapOptions, AxisSpec } from './vmap/index.js';

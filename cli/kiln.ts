/**
 * @file The `kiln` command line: run, check, fmt, hash, compile, tune, profile and serve StableHLO modules.
 * Every error exits non-zero with `file:line:col: message` and no stack trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { KilnError, InputError } from '../ir/errors.js';
import { parseModule } from '../ir/parse/parser.js';
import { printModule } from '../ir/print.js';
import { hashModule } from '../ir/hash.js';
import { verifyModule } from '../ir/verify.js';
import { formatType, mainFunc, type Module } from '../ir/types.js';
import { isDeviceName, openDevice } from '../runtime/open.js';
import { fromJson, toJson, type HostTensor, type JsonTensor } from '../runtime/tensor.js';
import { readNpy, readWeights, writeNpy } from '../runtime/formats/index.js';

const USAGE = `usage: kiln <command> [options]

  run MODULE.mlir [--weights W.safetensors|W.npz|W.npy] --inputs CASE.json|A.npy[,B.npy...]
        [--out OUT.json|PREFIX.npy] [--device webgpu|reference]
        Run the module's entry function. The arrays of --weights bind its leading arguments in
        file order; --inputs gives the rest. CASE.json is the corpus format ({"inputs": [...]});
        outputs go to OUT.json as {"outputs": [...]}, or to PREFIX_0.npy, PREFIX_1.npy, ...
        Without --out the outputs are printed as JSON.
  check MODULE.mlir          Parse and verify; print the entry signature.
  fmt MODULE.mlir            Print the canonical form.
  hash MODULE.mlir           Print the graph hash (SHA-256 of the canonical form).
  compile MODULE.mlir [--emit wgsl|plan] [--json] [--device webgpu|reference]
        Compile for the GPU; --json prints {"hash", "kernels", "bytes"}.
  tune MODULE.mlir [--json] [--cached]
        Time the matmul tile candidates of every dot_general on this adapter, print them and
        store the fastest in the tuning cache (KILN_CACHE_DIR, default ~/.cache/kiln), which
        later compiles read. --cached keeps classes the cache has (default: time them again).
  profile MODULE.mlir [--inputs CASE.json|A.npy,...] [--runs N] [--peak-gbps G] [--peak-tflops T] [--json]
        Time every kernel on the GPU (an adapter with timestamp-query) over N runs (default 10)
        and print its time, bytes moved, FLOP rate and percent of the roofline of the given peaks
        (default: NVIDIA H200, 4800 GB/s and 67 TFLOP/s f32). Without --inputs, seeded values.
  serve [--host 127.0.0.1] [--port 5555] [--token T] [--cache-dir DIR] [--device webgpu|reference|auto]
        [--buffer-ttl SECONDS] [--session-ttl SECONDS] [--request-timeout SECONDS] [--tokens FILE]
        Serve compiled programs over HTTP (see README: Server). Any host but loopback needs a
        token (--token or KILN_TOKEN) of at least 16 characters. --buffer-ttl frees kept buffers
        unused for that long (at least the request timeout; default never). --session-ttl ends
        sessions (POST /sessions) unused for that long, freeing their buffers and models (default
        3600; 0: never). --request-timeout: seconds a request may wait and run (default 60). --tokens FILE: 'TENANT TOKEN' lines, one tenant per token, each seeing only
        its own sessions.

Devices: webgpu (Dawn: Vulkan, Metal, D3D12; lavapipe on CI) is the default when an adapter
exists, else reference (the CPU interpreter). KILN_DEVICE overrides the default.`;

function loadModule(file: string): Module {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const m = parseModule(text, file);
  verifyModule(m);
  return m;
}

function signature(m: Module): string {
  const f = mainFunc(m);
  return `@${f.name}(${f.args.map((a) => formatType(a.type)).join(', ')}) -> (${f.resultTypes.map(formatType).join(', ')})`;
}

function loadInputs(spec: string): HostTensor[] {
  const files = spec.split(',').filter(Boolean);
  if (files.length === 1 && extname(files[0]) === '.json') {
    let doc: { inputs?: JsonTensor[] };
    try {
      doc = JSON.parse(readFileSync(files[0], 'utf8'));
    } catch (e) {
      throw new InputError(`${files[0]}: ${(e as Error).message}`);
    }
    if (!Array.isArray(doc.inputs)) throw new InputError(`${files[0]}: expected {"inputs": [...]}`);
    return doc.inputs.map((t, i) => fromJson(t, `${files[0]}: inputs[${i}]`));
  }
  return files.map((f) => {
    if (extname(f) !== '.npy') throw new InputError(`${f}: inputs are one .json case file or .npy files`);
    return readNpy(readFileSync(f), f).tensor;
  });
}

/** The arrays of a weight file, in file order, with a notice for any narrowing conversion. */
async function loadWeights(path: string): Promise<[string, HostTensor][]> {
  const w = await readWeights(path);
  for (const n of w.notes) process.stderr.write(`kiln: ${path}: ${n}\n`);
  return w.arrays;
}

/**
 * The entry function's arguments: the weights first (in file order), then the other inputs.
 * Each must have the argument's type; a mismatch names the argument and, for weights, the array.
 */
function bindArguments(m: Module, weights: [string, HostTensor][], rest: HostTensor[]): HostTensor[] {
  const args = mainFunc(m).args;
  const all: [string, HostTensor][] = [...weights, ...rest.map((t, i): [string, HostTensor] => [`inputs[${i}]`, t])];
  if (all.length !== args.length) {
    throw new InputError(`kiln run: @main takes ${args.length} arguments; got ${weights.length} from --weights and ${rest.length} from --inputs`);
  }
  all.forEach(([name, t], i) => {
    const want = args[i].type;
    if (t.dtype !== want.dtype || t.shape.join() !== want.shape.join()) {
      throw new InputError(`kiln run: argument ${i} is ${formatType(want)} but ${name} is ${formatType(t)}`);
    }
  });
  return all.map(([, t]) => t);
}

function writeOutputs(outputs: HostTensor[], out: string | undefined): void {
  if (!out) {
    process.stdout.write(JSON.stringify({ outputs: outputs.map(toJson) }) + '\n');
  } else if (extname(out) === '.npy') {
    const prefix = out.slice(0, -4);
    outputs.forEach((t, i) => writeFileSync(`${prefix}_${i}.npy`, writeNpy(t)));
  } else {
    writeFileSync(out, JSON.stringify({ outputs: outputs.map(toJson) }) + '\n');
  }
}

function deviceOption(v: string | undefined) {
  if (v === undefined) return undefined;
  if (!isDeviceName(v)) throw new InputError(`--device ${v}: expected webgpu, reference or auto`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      inputs: { type: 'string' },
      weights: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string' },
      emit: { type: 'string' },
      json: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      'cache-dir': { type: 'string' },
      'buffer-ttl': { type: 'string' },
      'session-ttl': { type: 'string' },
      'request-timeout': { type: 'string' },
      tokens: { type: 'string' },
      cached: { type: 'boolean' },
      runs: { type: 'string' },
      'peak-gbps': { type: 'string' },
      'peak-tflops': { type: 'string' },
    },
  });
  const file = positionals[0];
  const needFile = () => {
    if (!file) throw new InputError(`kiln ${command}: missing MODULE.mlir`);
    return file;
  };

  switch (command) {
    case 'check': {
      process.stdout.write(`${signature(loadModule(needFile()))}\n`);
      return 0;
    }
    case 'fmt': {
      process.stdout.write(printModule(loadModule(needFile())));
      return 0;
    }
    case 'hash': {
      process.stdout.write(`${hashModule(loadModule(needFile()))}\n`);
      return 0;
    }
    case 'run': {
      const m = loadModule(needFile());
      const weights = values.weights ? await loadWeights(values.weights) : [];
      if (!values.inputs && weights.length === 0) throw new InputError('kiln run: missing --inputs CASE.json or A.npy,B.npy (or --weights)');
      const inputs = bindArguments(m, weights, values.inputs ? loadInputs(values.inputs) : []);
      const device = await openDevice(deviceOption(values.device));
      try {
        const exe = device.compile(m);
        const outs = device.execute(exe, inputs.map((t) => device.upload(t)));
        writeOutputs(await Promise.all(outs.map((o) => device.read(o))), values.out);
      } finally {
        device.destroy();
      }
      return 0;
    }
    case 'compile': {
      const { compileCommand } = await import('./compile.js');
      return compileCommand(loadModule(needFile()), {
        emit: values.emit, json: values.json ?? false, device: deviceOption(values.device),
      });
    }
    case 'tune': {
      const { tuneCommand } = await import('./tune.js');
      return tuneCommand(loadModule(needFile()), { json: values.json ?? false, force: !values.cached });
    }
    case 'profile': {
      const { profileCommand, H200_PEAKS } = await import('./profile.js');
      const m = loadModule(needFile());
      return profileCommand(m, {
        inputs: values.inputs ? loadInputs(values.inputs) : undefined,
        runs: values.runs === undefined ? 10 : Number(values.runs),
        peakGbps: values['peak-gbps'] === undefined ? H200_PEAKS.gbps : Number(values['peak-gbps']),
        peakTflops: values['peak-tflops'] === undefined ? H200_PEAKS.tflops : Number(values['peak-tflops']),
        json: values.json ?? false,
      });
    }
    case 'serve': {
      const { serveCommand } = await import('../server/main.js');
      return serveCommand({
        host: values.host, port: values.port === undefined ? undefined : Number(values.port),
        token: values.token, cacheDir: values['cache-dir'], device: deviceOption(values.device),
        bufferTtl: values['buffer-ttl'] === undefined ? undefined : Number(values['buffer-ttl']),
        sessionTtl: values['session-ttl'] === undefined ? undefined : Number(values['session-ttl']),
        requestTimeout: values['request-timeout'] === undefined ? undefined : Number(values['request-timeout']),
        tokensFile: values.tokens,
      });
    }
    default:
      process.stderr.write(`kiln: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (e instanceof KilnError) process.stderr.write(`${e.message}\n`);
    else if (e instanceof TypeError && (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') process.stderr.write(`kiln: ${e.message}\n`);
    else process.stderr.write(`kiln: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);

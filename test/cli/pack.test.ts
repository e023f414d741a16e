/**
 * @file The package as a user gets it: `npm pack` the built tree, install the tarball into an empty
 * project, and run the `kiln` bin through `npx` — `--help` and a corpus program on the reference
 * device. Catches a bin without its `#!/usr/bin/env node` line (sh then runs it and fails with a
 * shell syntax error), files missing from the package's `files` list, and dependencies that warn
 * `EBADENGINE` on the running Node (CI runs Node 20, 22 and 24).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromJson, type JsonTensor } from '../../runtime/tensor.js';
import { CORPUS_DIR, loadCase, mismatch } from '../helpers/corpus.js';

const exec = promisify(execFile);

describe('npm pack and install', () => {
  it('installs from the tarball and runs `npx kiln`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
    // dist/ is built by the test setup; --ignore-scripts skips a second build.
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: resolve('.') });
    const tarball = join(dir, (JSON.parse(stdout) as { filename: string }[])[0].filename);
    const app = join(dir, 'app');
    await exec('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app });
    // No dependency refuses this Node (fastify -> light-my-request 6.8 -> cookie 2 wanted Node 22:
    // package.json pins light-my-request 6.6.0, whose cookie 1 takes Node 18 and up).
    expect(`${install.stdout}\n${install.stderr}`.split('\n').filter((l) => /EBADENGINE/.test(l))).toEqual([]);
    const lmr = JSON.parse(readFileSync(join(app, 'node_modules', 'light-my-request', 'package.json'), 'utf8')) as { version: string };
    expect(lmr.version).toBe('6.6.0');

    const help = await exec('npx', ['--no-install', 'kiln', '--help'], { cwd: app });
    expect(help.stdout).toMatch(/usage: kiln <command>/);

    const out = join(dir, 'out.json');
    await exec('npx', ['--no-install', 'kiln', 'run', join(CORPUS_DIR, 'softmax.mlir'), '--inputs', join(CORPUS_DIR, 'softmax.json'), '--out', out, '--device', 'reference'], { cwd: app });
    const got = (JSON.parse(readFileSync(out, 'utf8')) as { outputs: JsonTensor[] }).outputs.map((t) => fromJson(t));
    expect(mismatch(got[0], loadCase('softmax').outputs[0])).toBeUndefined();

    // The library entry resolves from the installed package too.
    const lib = await exec(process.execPath, ['--input-type=module', '-e', "import { numpy as np } from 'kiln'; console.log(np.add.name)"], { cwd: app });
    expect(lib.stdout.trim()).toBe('add');
  }, 240_000);
});

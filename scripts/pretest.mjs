/**
 * @file Runs before `npm test`: the test suite needs a GPU adapter (a software one is fine) plus Debian's
 * python3-numpy, python3-msgpack and chromium. On Debian as root it installs what is missing
 * (scripts/setup-gpu.sh, scripts/setup-ci-packages.sh); elsewhere it says what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;

function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith('install ok installed') ? r.stdout.split(' ').pop() : undefined;
}

if (process.platform === 'linux' && has('apt-get') && has('dpkg-query')) {
  const mesa = dpkgVersion('mesa-vulkan-drivers');
  const mesaOk = mesa !== undefined && Number(mesa.split('.')[0].replace(/^\d+:/, '')) >= 24;
  const missing = ['python3-numpy', 'python3-msgpack', 'chromium', 'nginx'].filter((p) => !dpkgVersion(p));
  if (!mesaOk || missing.length) {
    const what = [!mesaOk && 'Mesa 25 lavapipe (software Vulkan)', ...missing].filter(Boolean).join(', ');
    if (isRoot) {
      console.error(`pretest: installing ${what} ...`);
      if (!mesaOk) execFileSync('bash', ['scripts/setup-gpu.sh'], { stdio: 'inherit' });
      if (missing.length) execFileSync('bash', ['scripts/setup-ci-packages.sh'], { stdio: 'inherit' });
    } else {
      console.error(`pretest: the tests need ${what}; run: sudo bash scripts/setup-gpu.sh && sudo bash scripts/setup-ci-packages.sh`);
    }
  }
} else if (!existsSync('/usr/bin/chromium')) {
  console.error('pretest: not Debian; the GPU tests use your system WebGPU adapter (Metal on a Mac), the server tests python3 with numpy and msgpack (KILN_PYTHON), the dashboard test Chromium');
}

/**
 * @file The vitest setup: every test file under test/, built first (test/setup/build.ts), in at
 * most two forked workers, since GPU tests share one software adapter.
 */
import { defineConfig } from 'vitest/config';

// Mesa's Vulkan drivers look for a runtime dir; CI machines often have none.
process.env.XDG_RUNTIME_DIR ??= '/tmp';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build.ts'],
    // GPU tests share one software adapter; keep files in few workers on a 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
    // Generous: lavapipe on a busy 2-core machine runs GPU tests several times slower than idle.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});

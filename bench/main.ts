/**
 * @file `npm run bench -- [--json] [--sizes smoke|full] [--only name,...]`: kiln against jax-js on
 * one GPU adapter, in one process. The table (or with `--json`, exactly one JSON object) goes to
 * stdout; progress, Dawn's warnings and anything the libraries print go to stderr. The exit status
 * is 1 when a row's results disagree or kiln failed on it, 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs, UsageError, USAGE, type CliArgs } from './cli.js';
import { formatTable, reportTitle, toJson } from './report.js';
import { formatProfiles } from './profile.js';
import { runBench } from './run.js';

/** Sends console output to stderr, so stdout holds only the table or the JSON. */
function quietStdout(): void {
  const toErr = (...args: unknown[]) => console.error(...args);
  console.log = toErr;
  console.info = toErr;
  console.warn = toErr;
  console.debug = toErr;
}

function exit(code: number, text?: string): void {
  // Dawn's instance can keep the event loop alive; leave once stdout is flushed.
  if (text === undefined) process.exit(code);
  process.stdout.write(text, () => process.exit(code));
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) process.stderr.write(`bench: ${e.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return exit(e.message ? 2 : 0);
  }
  quietStdout();
  const report = await runBench({ ...args, log: (l) => process.stderr.write(`${l}\n`) });
  const failed = report.rows.filter((r) => !r.check.ok).length;
  if (failed) process.stderr.write(`bench: ${failed} of ${report.rows.length} rows failed their checks\n`);
  const table = `${formatTable(report)}\n`;
  if (args.markdown) writeFileSync(args.markdown, table);
  if (args.profile) {
    const profiles = formatProfiles(reportTitle(report).join('\n'), report.rows);
    if (args.profileFile) writeFileSync(args.profileFile, profiles);
    else process.stderr.write(profiles);
  }
  const text = args.json ? `${JSON.stringify(toJson(report))}\n` : table;
  exit(failed ? 1 : 0, text);
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
  exit(1);
});

/**
 * @file Compiled programs on disk (`--cache-dir`/artifacts): the device's artifact store
 * (runtime/device.ts `ArtifactStore`). A file is named by the program's graph hash and a digest
 * of the whole key (graph hash, adapter, compiler version), and starts with a line holding the
 * SHA-256 of the rest: a file whose content does not match it (truncated, edited, garbage) is
 * deleted with a warning and the program compiled again. Writes go to a temporary name first, so
 * servers sharing the directory never read half a file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from '../runtime/device.js';

const MAGIC = 'kiln-artifact-1';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class FileArtifactStore implements ArtifactStore {
  /** Files deleted because they failed their checksum or did not fit (`reject`). */
  rejected = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(key: string): string {
    const graph = key.split('|')[0].replace(/[^0-9a-f]/g, '').slice(0, 64);
    return join(this.dir, `${graph}-${sha256(key).slice(0, 24)}.art`);
  }

  load(key: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(key), 'utf8');
    } catch {
      return undefined;
    }
    const nl = text.indexOf('\n');
    const head = nl < 0 ? text : text.slice(0, nl);
    const body = nl < 0 ? '' : text.slice(nl + 1);
    if (head !== `${MAGIC} ${sha256(body)}`) {
      this.reject(key, 'fails its checksum');
      return undefined;
    }
    return body;
  }

  save(key: string, text: string): void {
    const path = this.path(key);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${MAGIC} ${sha256(text)}\n${text}`);
    renameSync(tmp, path);
  }

  reject(key: string, why: string): void {
    const path = this.path(key);
    this.rejected++;
    try { unlinkSync(path); } catch { /* already gone */ }
    process.emitWarning(`kiln: compiled-program file ${path} ${why}; deleted (the program is compiled again)`, 'KilnCacheWarning');
  }

  /** Deletes every compiled form of the program with this graph hash (DELETE /executables/:id). */
  deleteProgram(graphHash: string): number {
    let n = 0;
    for (const f of readdirSync(this.dir)) {
      if (f.startsWith(`${graphHash}-`) && f.endsWith('.art')) {
        try { unlinkSync(join(this.dir, f)); n++; } catch { /* another server deleted it */ }
      }
    }
    return n;
  }
}

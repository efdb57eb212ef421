import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Text appended to a temporary file, read back as a stream once complete: for the parts of an export that
 * are known only at the end (the manifest's summary line comes first; COCO's arrays are written apart) and
 * must not be held in memory.
 */
export class Spool {
  private constructor(
    private readonly dir: string,
    private readonly files: Map<string, WriteStream>,
  ) {}

  static async create(): Promise<Spool> {
    return new Spool(await mkdtemp(path.join(os.tmpdir(), "sas-export-")), new Map());
  }

  /** Appends to the named part, waiting when the file's buffer is full. */
  async write(part: string, text: string): Promise<void> {
    let file = this.files.get(part);
    if (!file) {
      file = createWriteStream(path.join(this.dir, part));
      this.files.set(part, file);
    }
    if (!file.write(text)) {
      const target = file;
      await new Promise<void>((resolve, reject) => {
        target.once("drain", resolve);
        target.once("error", reject);
      });
    }
  }

  /** Closes the part and streams it (empty when nothing was written). */
  async read(part: string): Promise<Readable> {
    let file = this.files.get(part);
    if (!file) {
      file = createWriteStream(path.join(this.dir, part));
      this.files.set(part, file);
    }
    const closing = file;
    if (!closing.closed)
      await new Promise<void>((resolve, reject) =>
        closing.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
    return createReadStream(path.join(this.dir, part));
  }

  async dispose(): Promise<void> {
    for (const file of this.files.values()) file.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * One tar shard written as a stream (tar-stream): members are appended one at a time and each append
 * waits until the archive's reader has taken the bytes, so a slow destination holds the producer back
 * instead of the shard piling up in memory.
 */
import { Readable } from "node:stream";
import { pack as createPack, type Pack } from "tar-stream";

export class TarShardWriter {
  private readonly pack: Pack = createPack();
  /** The archive's bytes, for BlobStorage.put or a file. */
  readonly readable: Readable = Readable.from(this.pack, { objectMode: false });
  private readonly mtime: Date;

  constructor(mtime = new Date()) {
    this.mtime = mtime;
  }

  add(name: string, data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(
        { name, size: data.byteLength, mtime: this.mtime, mode: 0o644 },
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  finish(): void {
    this.pack.finalize();
  }

  /** Stops the archive (the destination sees an error and keeps nothing). */
  abort(error: Error): void {
    this.pack.destroy(error);
  }
}

import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelWhileResuming } from "./testing/stream-cancel";
import { webStreamFrom } from "./web-stream";

let dir: string;
let file: string;
const bytes = randomBytes(1024 * 1024);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sas-web-stream-"));
  file = path.join(dir, "big.bin");
  await writeFile(file, bytes);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("webStreamFrom", () => {
  it("carries every byte, in order", async () => {
    const body = webStreamFrom(createReadStream(file));
    expect(Buffer.from(await new Response(body).arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("takes text chunks as UTF-8", async () => {
    const body = webStreamFrom(Readable.from(["é", "t", "é"], { objectMode: false }));
    expect(await new Response(body).text()).toBe("été");
  });

  it("reads no further ahead than the reader (one chunk beyond what it took)", async () => {
    let produced = 0;
    const source = new Readable({
      highWaterMark: 1,
      read() {
        produced++;
        this.push(Buffer.alloc(16));
      },
    });
    const reader = webStreamFrom(source).getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // One taken, one queued for the next pull, and the source's own one-chunk buffer: never unbounded.
    expect(produced).toBeLessThanOrEqual(4);
    await reader.cancel();
  });

  it("a cancel while the paused source is resuming raises nothing, and closes the source", async () => {
    const source = createReadStream(file);
    const closed = once(source, "close");
    expect(await cancelWhileResuming(webStreamFrom(source))).toEqual([]);
    await closed;
    expect(source.destroyed).toBe(true);
  });

  it("a cancel before the first read closes the source too", async () => {
    const source = createReadStream(file);
    await webStreamFrom(source).cancel();
    await once(source, "close");
  });

  it("a source that fails fails the body with its error", async () => {
    const body = webStreamFrom(createReadStream(path.join(dir, "missing.bin")));
    await expect(new Response(body).arrayBuffer()).rejects.toMatchObject({ code: "ENOENT" });
  });
});

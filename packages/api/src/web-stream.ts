import type { Readable } from "node:stream";

/**
 * A Node stream (a stored blob being read) as a web ReadableStream, for a Response body.
 *
 * Not `Readable.toWeb`: its adapter feeds the web stream from a 'data' listener. When the client leaves
 * a download it had stopped reading, Next's pipe asks the paused source to resume and cancels the body
 * in the same tick; the resume then delivers one more buffered chunk into the cancelled stream, and
 * `enqueue` throws "Controller is already closed" from the listener, an uncaught exception in the web
 * process (Node 20 and later, nodejs/node#64529). Here chunks are only taken inside `pull`, one per
 * pull (the reader's pace sets the reading pace), and nothing is enqueued once the body is cancelled.
 */
export function webStreamFrom(source: Readable): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (error) {
        // After a cancel the destroyed source ends its iteration with a premature-close error: expected.
        if (!cancelled) controller.error(error);
        return;
      }
      if (cancelled) return;
      if (next.done) controller.close();
      else controller.enqueue(bytesOf(next.value));
    },
    cancel() {
      cancelled = true;
      // Closes the file or aborts the S3 request; a pending pull then ends (see above).
      source.destroy();
    },
  });
}

/** Storage streams yield Buffers; a plain Uint8Array view of the same memory, without copying. */
function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  throw new TypeError("a byte stream yielded something other than bytes or text");
}

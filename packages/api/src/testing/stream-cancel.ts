/**
 * Cancels a response body the way Next does when the client leaves a download it stopped reading:
 * Next's pipe to the socket had stopped pulling (backpressure), so the body's source paused with data
 * buffered; the pipe's last read asks the source to resume and, in the same tick, the pipe is torn down
 * and cancels the body. Answers the uncaught exceptions and unhandled rejections seen meanwhile.
 */
export async function cancelWhileResuming(body: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (error: unknown) => seen.push(error);
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
  try {
    const reader = body.getReader();
    await reader.read();
    // Long enough for the source to fill the body's queue and its own buffer, and pause.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const last = reader.read().catch(() => undefined);
    await reader.cancel();
    await last;
    // Whatever the source does after the cancel happens within a few turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    process.off("uncaughtException", record);
    process.off("unhandledRejection", record);
  }
  return seen;
}

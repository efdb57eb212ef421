/**
 * Polling for the launcher's integration tests (fault, web processes): waits until `check` holds,
 * and on timeout says what the launcher printed last, which is where the reason usually is.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  launcherOutput: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms; launcher output:\n${launcherOutput().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

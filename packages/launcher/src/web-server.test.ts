import http from "node:http";
import type { AddressInfo } from "node:net";
import { CLIENT_ADDRESS_HEADER } from "@sas/auth/client-address";
import { afterEach, describe, expect, it } from "vitest";
import { createFrontServer } from "./web-server";

/** A stand-in for Next: answers the client address it was given; /upload refuses before reading the body. */
function inner(req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.url === "/upload") {
    res.statusCode = 413;
    res.end("too large");
    return;
  }
  req.resume();
  req.on("end", () => res.end(String(req.headers[CLIENT_ADDRESS_HEADER])));
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function start(trusted: string[] = []): Promise<string> {
  const server = createFrontServer(inner, trusted);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function get(
  url: string,
  headers: Record<string, string> = {},
  agent?: http.Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent }, (res) => {
        let body = "";
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("web front server", () => {
  it("takes the client address from the socket, whatever the forwarding headers say", async () => {
    const base = await start();
    const spoofed = await get(`${base}/`, {
      "x-forwarded-for": "203.0.113.9",
      [CLIENT_ADDRESS_HEADER]: "198.51.100.1",
    });
    expect(spoofed.body).toBe("127.0.0.1");
  });

  it("behind a trusted proxy, takes the rightmost untrusted X-Forwarded-For entry", async () => {
    const base = await start(["127.0.0.0/8", "10.0.0.5"]);
    // The client wrote 6.6.6.6 itself; the proxies appended 203.0.113.9 and 10.0.0.5.
    const got = await get(`${base}/`, { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.0.0.5" });
    expect(got.body).toBe("203.0.113.9");
    expect((await get(`${base}/`)).body).toBe("127.0.0.1");
  });

  it("after a 413 on a chunked upload, the next request on a kept-alive agent works", async () => {
    const base = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
        const req = http.request(
          `${base}/upload`,
          { method: "POST", agent, headers: { "transfer-encoding": "chunked" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          },
        );
        req.on("error", reject);
        req.write(Buffer.alloc(64 * 1024, 1));
        // The rest of the body would follow; the server has answered already.
        setTimeout(() => req.end(Buffer.alloc(64 * 1024, 2)), 50);
      });
      expect(refused).toEqual({ status: 413, connection: "close" });
      const next = await get(`${base}/`, {}, agent);
      expect(next).toEqual({ status: 200, body: "127.0.0.1" });
    } finally {
      agent.destroy();
    }
  });
});

// A server with no telemetry code at all: tests/setup/auto_test.ts runs it
// with the auto entry point preloaded (deno run --preload, bun --preload) and
// only environment variables. It logs with console, calls itself with fetch,
// and prints "listening <port>" once it serves.
const g = globalThis as {
  Deno?: { serve(options: unknown, handler: unknown): unknown };
  Bun?: { serve(options: unknown): { port: number } };
};

let port = 0;
async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/chain") {
    const inner = await fetch(`http://127.0.0.1:${port}/hello?from=chain`);
    console.info(`chain got ${inner.status}`);
    return new Response(await inner.text());
  }
  console.log(`hello ${url.searchParams.get("n") ?? "-"}`);
  return new Response("hello");
}

if (g.Deno) {
  g.Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen(addr: { port: number }) {
      port = addr.port;
      console.error(`listening ${port}`);
    },
  }, handle);
} else if (g.Bun) {
  const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handle });
  port = server.port;
  console.error(`listening ${port}`);
}

// The container's HEALTHCHECK: GET /health on this node's HTTP port (exit 0 when the node is a
// member that sees a group 0 leader, 1 otherwise). The port is the node's own setting, or its
// default, the client port + 1000, read from the same environment variables the node reads.
const port = process.env.LOCKSTEP_HTTP_PORT || String(Number(process.env.LOCKSTEP_PORT || 7379) + 1000);
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2500) });
  const body = await response.text();
  process.stdout.write(`${response.status} ${body}\n`);
  process.exit(response.ok ? 0 : 1);
} catch (err) {
  process.stdout.write(`no answer on 127.0.0.1:${port}: ${err.cause?.code ?? err.message}\n`);
  process.exit(1);
}

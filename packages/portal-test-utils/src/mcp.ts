/**
 * Calls a tool of the backend's MCP server (`/api/mcp-actions/v1`) as an MCP
 * client does (streamable HTTP, stateless) with `headers` (e.g. the
 * `authorization` header) and returns the HTTP status and the JSON-RPC message.
 */
export async function callMcpTool(
  baseUrl: string,
  headers: Record<string, string>,
  name: string,
  args: object,
): Promise<{ status: number; message: any }> {
  const res = await fetch(`${baseUrl}/api/mcp-actions/v1`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  const text = await res.text();
  // Answered as one server-sent event, or as plain JSON.
  const data = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .filter(l => l.startsWith('data: '))
        .map(l => l.slice('data: '.length))
        .join('');
  return { status: res.status, message: JSON.parse(data) };
}

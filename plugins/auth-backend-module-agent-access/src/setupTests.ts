// The integration suite starts an Entra emulator, a TLS host for the agent's
// client metadata and a backend with auth, catalog, permission and MCP; on a
// loaded 2-core CI machine that exceeds jest's 5 s default.
jest.setTimeout(60_000);

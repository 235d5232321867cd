// The integration suite starts an Entra emulator and a backend with the
// catalog, scaffolder, auth and permission plugins; on a loaded 2-core CI
// machine that exceeds jest's 5 s default.
jest.setTimeout(60_000);

// The integration suite starts a backend with the auth, catalog, scaffolder
// and permission plugins; on a loaded 2-core CI machine that exceeds jest's
// 5 s default.
jest.setTimeout(60_000);

// Each suite starts emulators that create a CA and keys; on a loaded 2-core
// CI machine running suites in parallel that exceeds jest's 5 s default.
jest.setTimeout(60_000);

// A real catalog processes the registered locations in these tests.
jest.setTimeout(60_000);

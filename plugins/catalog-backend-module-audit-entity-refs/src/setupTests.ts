// A real catalog ingests the fixed entities in these tests.
jest.setTimeout(60_000);

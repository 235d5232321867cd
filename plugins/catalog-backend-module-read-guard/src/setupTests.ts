// A real catalog processes the entities and locations in these tests.
jest.setTimeout(60_000);

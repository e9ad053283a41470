import { parseImageRef, perArchRef } from './image-ref.js';

test('a reference splits into repository, tag and digest; a registry port is not a tag', () => {
  expect(parseImageRef('debian:bookworm')).toEqual({ repository: 'debian', tag: 'bookworm' });
  expect(parseImageRef('127.0.0.1:5000/kiln/x')).toEqual({ repository: '127.0.0.1:5000/kiln/x' });
  expect(parseImageRef('127.0.0.1:5000/x:1@sha256:ab')).toEqual({
    repository: '127.0.0.1:5000/x',
    tag: '1',
    digest: 'sha256:ab',
  });
});

test("an arch's variant is the tag with the arch after it; a digest has none", () => {
  expect(perArchRef('debian:bookworm', 'arm64')).toBe('debian:bookworm-arm64');
  expect(perArchRef('kiln/bookworm-build', 'arm64')).toBe('kiln/bookworm-build:latest-arm64');
  expect(perArchRef('127.0.0.1:5000/x', 'riscv64')).toBe('127.0.0.1:5000/x:latest-riscv64');
  expect(perArchRef('debian@sha256:ab', 'arm64')).toBeNull();
});

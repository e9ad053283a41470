/**
 * How much longer a stage may take when its arch is emulated (KILN_EMULATION_SLOWDOWN's default):
 * bench/emulated-build.ts measured examples/libgreet's stages (gcc, ar, a test program) under
 * qemu-user for arm64 at 9.8–12.1x native, median 11.6x, on a loaded 2-core amd64 machine. Twice
 * that, rounded up: bigger compiles (C++, LTO) suffer more from emulation than a small C library.
 */
export const DEFAULT_EMULATION_SLOWDOWN = 24;

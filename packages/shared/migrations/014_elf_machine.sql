-- The machine each ELF file is for (e_machine: x86-64, aarch64, arm, i386,
-- riscv64, …), so a package built for one arch shows what its binaries run on.
ALTER TABLE package_files ADD COLUMN IF NOT EXISTS machine text;

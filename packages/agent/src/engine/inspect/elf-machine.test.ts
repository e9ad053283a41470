import { elfMachineName } from './elf-machine.js';

test("e_machine is named as DESIGN.md does, a family's 64-bit member by the ELF class", () => {
  expect(elfMachineName(62, 64)).toBe('x86-64');
  expect(elfMachineName(183, 64)).toBe('aarch64');
  expect(elfMachineName(40, 32)).toBe('arm');
  expect(elfMachineName(3, 32)).toBe('i386');
  expect(elfMachineName(243, 64)).toBe('riscv64');
  expect(elfMachineName(243, 32)).toBe('riscv32');
  expect(elfMachineName(22, 64)).toBe('s390x');
  expect(elfMachineName(9999, 64)).toBe('em-9999');
});

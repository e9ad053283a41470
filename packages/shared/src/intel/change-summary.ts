import type { ChangeSummary } from './analysis.js';
import type { BuildDiff } from './build-diff.js';

export function summariseDiff(diff: BuildDiff): ChangeSummary {
  return {
    against: diff.against,
    basis: diff.basis,
    added: diff.files.added.length,
    removed: diff.files.removed.length,
    changed: diff.files.changed.length,
    sizeChange: diff.sizeBytes.change,
    providesAdded: diff.provides.added,
    providesRemoved: diff.provides.removed,
    abiChange: diff.abiChange,
    hardeningLost: diff.hardeningLost.length,
    slowerCommands: diff.commands.filter((c) => c.afterMs > c.beforeMs).length,
  };
}

/** One line for people: `3 changed, 1 added, 0 removed (+2.1 KiB); ABI: -libgreet.so.1 +libgreet.so.2`. */
export function describeChanges(s: ChangeSummary): string {
  const size = `${s.sizeChange >= 0 ? '+' : '-'}${Math.abs(s.sizeChange)} bytes`;
  const parts = [
    `${s.changed} changed, ${s.added} added, ${s.removed} removed (${size}) against ${s.basis} build ${s.against}`,
  ];
  if (s.abiChange) {
    parts.push(
      `ABI change: ${[...s.providesRemoved.map((n) => `-${n}`), ...s.providesAdded.map((n) => `+${n}`)].join(' ')}`,
    );
  }
  if (s.hardeningLost > 0) parts.push(`${s.hardeningLost} hardening lost`);
  if (s.slowerCommands > 0) parts.push(`${s.slowerCommands} command(s) slower`);
  return parts.join('; ');
}

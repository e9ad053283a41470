/** Samples of one metric from Prometheus text: labels → value. */
export function metricSamples(text: string, name: string): Array<{ labels: string; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const at = line.lastIndexOf(' ');
      return { labels: line.slice(name.length, at), value: Number(line.slice(at + 1)) };
    });
}

/** The sum of a metric's samples (0 when it has none). */
export function metricTotal(text: string, name: string): number {
  return metricSamples(text, name).reduce((sum, s) => sum + s.value, 0);
}

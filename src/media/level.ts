/**
 * Signal level. dBFS here is RMS relative to a full-scale square wave (32768), so a full-scale sine reads
 * -3.01 dBFS. The silence and voice detectors build on this.
 */

/** RMS level in dBFS; -Infinity for digital silence (and for an empty array). */
export function rmsDbfs(pcm: Int16Array): number {
  const n = pcm.length;
  if (n === 0) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm[i]!;
    sum += x * x;
  }
  if (sum === 0) return Number.NEGATIVE_INFINITY;
  return 10 * Math.log10(sum / n / (32768 * 32768));
}

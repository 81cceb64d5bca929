/**
 * Process-wide media counters, read by the metrics endpoint and the benchmarks. Plain numbers on one object so
 * the frame path pays one property increment, never a call.
 */
export const mediaStats = {
  /** Frames delivered through links. */
  framesForwarded: 0,
  /** Links that needed a converter (anything but passthrough). */
  convertersCreated: 0,
  /** Frames dropped by playout buffers because they were full. */
  framesDropped: 0,
  /** Frames released by paced streams on clock ticks. */
  framesPaced: 0,
};

'use strict';
// BullMQ's sandboxed processor for the pool bench: a no-op, or a CPU loop of `ms` ms.
module.exports = async (job) => {
  const { x, ms } = job.data;
  if (ms) {
    const end = performance.now() + ms;
    while (performance.now() < end);
  }
  return x;
};

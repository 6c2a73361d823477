'use strict';
// The raw pool anchors' task (piscina, tinypool): a no-op, or a CPU loop of `ms` ms.
module.exports = ({ x, ms }) => {
  if (ms) {
    const end = performance.now() + ms;
    while (performance.now() < end);
  }
  return x;
};

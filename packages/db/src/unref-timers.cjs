// Preloaded into the Prisma 6.19 CLI: its WebAssembly schema engine leaves a 10 s timer behind after the command
// finished, which would make every migration command last at least 10 s. Long timers stop holding the process open.
const setTimeoutOriginal = global.setTimeout;
global.setTimeout = function setTimeoutUnrefLong(fn, ms, ...args) {
  const timer = setTimeoutOriginal.call(this, fn, ms, ...args);
  if (ms >= 5000 && timer && typeof timer.unref === 'function') timer.unref();
  return timer;
};

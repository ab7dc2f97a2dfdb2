import { startPlatform } from '../support/platform.ts';
import { benchProcesses, cpuSnapshot, say } from './measure.ts';

const platform = await startPlatform({ label: 'bench_idle' });
const processes = benchProcesses(platform);
await new Promise((r) => setTimeout(r, 10_000));
const before = cpuSnapshot(processes);
const t0 = Date.now();
await new Promise((r) => setTimeout(r, 20_000));
const after = cpuSnapshot(processes);
const s = (Date.now() - t0) / 1000;
for (const [name] of processes) say(`${name.padEnd(20)} ${(((after.get(name) ?? 0) - (before.get(name) ?? 0)) / s).toFixed(1)} ms/s`);
await platform.stopAll();

// `npm start`: the stack, the schemas, then what runs where. Grows with every capability.
import { up } from '@outbound/stack';
import { setup } from './setup.ts';

try {
  const started = Date.now();
  const engines = await up();
  await setup();
  console.log('\nrunning:');
  for (const engine of engines) {
    console.log(`  ${engine.name.padEnd(10)} ${engine.address.padEnd(22)} ${engine.log ?? '(external)'}`);
  }
  console.log(
    `\nready in ${((Date.now() - started) / 1000).toFixed(1)} s. Stop the engines with: npm run stack -- down`,
  );
} catch (err) {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

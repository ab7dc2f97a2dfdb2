export { blockedBy } from './locks.ts';
export { createScratchDatabase, type ScratchDatabase } from './scratch-database.ts';

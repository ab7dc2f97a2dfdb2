import { databaseEnv, parseEnv } from '@outbound/config';
import {
  createMigration,
  databaseDrift,
  deployMigrations,
  generateClient,
  migrationStatus,
} from '../migrations.ts';

const USAGE = `usage: packages/db/src/cli/migrate.ts <command>
  generate        generate Prisma Client into packages/db/src/generated (npm run db:generate)
  deploy          apply pending migrations (npm run db:migrate)
  status          list applied and pending migrations
  new <name>      write a migration for the changes in prisma/schema.prisma (npm run db:migration:new -- <name>)
  drift           compare the live database with prisma/schema.prisma; exit 2 on drift`;

async function main([command, ...args]: string[]): Promise<number> {
  if (command === 'generate') {
    await generateClient();
    console.log('Prisma Client generated in packages/db/src/generated/prisma');
    return 0;
  }
  const { DATABASE_URL } = parseEnv(databaseEnv, process.env);
  switch (command) {
    case 'deploy': {
      const { applied } = await deployMigrations(DATABASE_URL);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema is up to date');
      return 0;
    }
    case 'status':
      console.log(await migrationStatus(DATABASE_URL));
      return 0;
    case 'new': {
      const [name] = args;
      if (!name) {
        console.error(USAGE);
        return 2;
      }
      const dir = await createMigration(DATABASE_URL, name);
      console.log(
        dir ? `wrote ${dir}/migration.sql` : 'schema.prisma and the migrations agree: nothing to write',
      );
      return 0;
    }
    case 'drift': {
      const sql = await databaseDrift(DATABASE_URL);
      if (sql === '') {
        console.log('no drift: the database matches prisma/schema.prisma');
        return 0;
      }
      console.error(`the database differs from prisma/schema.prisma; this SQL would reconcile it:\n${sql}`);
      return 2;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);

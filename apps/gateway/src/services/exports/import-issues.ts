import type { PoolClient } from 'pg';
import { type CsvPlan, setLocal } from './copy-csv.ts';
import { defusedSql } from './csv.ts';

// An import's report as CSV: every rejected row (severity ERROR) and every warning (WARNING: a duplicate, naming the
// row it repeats, or a remark on an imported row), in row order, read along target_import_issues' primary key.

const IMPORT = 'outbound.export_import';
const TENANT = 'outbound.export_tenant';

const HEADER = ['row', 'field', 'value', 'severity', 'message', 'duplicate_of_row'];

// Field names come from the file's header, values from its cells, messages may quote them: all defused.
const SELECT = `
  SELECT i.row, ${defusedSql('i.field')}, ${defusedSql('i.value')}, i.severity::text, ${defusedSql('i.message')},
         i.duplicate_of_row
  FROM target_import_issues i
  WHERE i.import_id = (
    SELECT id FROM target_imports
    WHERE id = current_setting('${IMPORT}')::uuid AND tenant_id = current_setting('${TENANT}')::uuid
  )
  ORDER BY i.row, i.id`;

/** The plan of an import's report (see `copyCsv`); the query reads nothing of another tenant's import. */
export function importIssuesExport(tenantId: string, importId: string) {
  return async (client: PoolClient): Promise<CsvPlan> => {
    await setLocal(client, { [IMPORT]: importId, [TENANT]: tenantId });
    return { header: HEADER, select: SELECT };
  };
}

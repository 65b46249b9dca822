import type { IndexRow, IndexRows, IndexTable } from '../index-rows.js';
import type { PostgresDatabase } from './postgres-database.js';

export class PostgresIndexRows implements IndexRows {
  constructor(private readonly db: PostgresDatabase) {}

  async read(table: IndexTable, after: (string | number)[] | undefined, limit: number): Promise<IndexRow[]> {
    const key = table.key.map((column) => `"${column}"`).join(', ');
    const where = after ? `WHERE (${key}) > (${after.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    return this.db.query<IndexRow>(
      `SELECT * FROM "${table.name}" ${where} ORDER BY ${key} LIMIT $${(after?.length ?? 0) + 1}`,
      [...(after ?? []), limit],
    );
  }

  async write(table: IndexTable, rows: IndexRow[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const text = `INSERT INTO "${table.name}" (${columns.map((c) => `"${c}"`).join(', ')})
      VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
    await this.db.transaction(async (tx) => {
      for (const row of rows) {
        await tx.query(
          text,
          columns.map((column) => row[column]),
        );
      }
    });
  }

  async exists(table: string): Promise<boolean> {
    const [row] = await this.db.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [`"${table}"`]);
    return row?.found !== null && row?.found !== undefined;
  }
}

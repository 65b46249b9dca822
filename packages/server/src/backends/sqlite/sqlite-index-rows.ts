import type Database from 'better-sqlite3';
import type { IndexRow, IndexRows, IndexTable } from '../index-rows.js';

export class SqliteIndexRows implements IndexRows {
  constructor(private readonly db: Database.Database) {}

  async read(table: IndexTable, after: (string | number)[] | undefined, limit: number): Promise<IndexRow[]> {
    const key = table.key.map((column) => `"${column}"`).join(', ');
    const where = after ? `WHERE (${key}) > (${after.map(() => '?').join(', ')})` : '';
    return this.db
      .prepare(`SELECT * FROM "${table.name}" ${where} ORDER BY ${key} LIMIT ?`)
      .all(...(after ?? []), limit) as IndexRow[];
  }

  async write(table: IndexTable, rows: IndexRow[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]!);
    const insert = this.db.prepare(
      `INSERT INTO "${table.name}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    this.db.transaction(() => {
      for (const row of rows) insert.run(...columns.map((column) => row[column]));
    })();
  }

  async exists(table: string): Promise<boolean> {
    return this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
  }
}

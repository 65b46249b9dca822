/** Something that runs SQL: the pool, or one connection inside a transaction. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
}

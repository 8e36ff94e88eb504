// duckdb_query.mjs SQL: runs SQL in an in-memory DuckDB (the npm package
// @duckdb/node-api, installed by tests/firehose_test.sh) and prints each
// result row as one JSON line. Exits 1 with DuckDB's message on an error.
import { DuckDBInstance } from '@duckdb/node-api';

try {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(process.argv[2]);
  for (const row of reader.getRowObjectsJson()) console.log(JSON.stringify(row));
} catch (e) {
  console.error(`duckdb_query: ${e.message}`);
  process.exit(1);
}

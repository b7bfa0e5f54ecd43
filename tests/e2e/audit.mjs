// Runs the graphql-http package's server audit (the GraphQL-over-HTTP conformance suite)
// against a running vsys and fails when any MUST audit fails. SHOULD and MAY results are
// printed for information.
//
//   node tests/e2e/audit.mjs http://127.0.0.1:8080/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/graphql';
const results = await auditServer({ url });

let mustFailures = 0;
const counts = { ok: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status === 'ok') continue;
  const isMust = result.name.startsWith('MUST');
  if (isMust) mustFailures += 1;
  const detail = result.reason ?? '';
  console.log(`${isMust ? 'FAIL' : 'note'} ${result.id} ${result.name}: ${detail}`);
}
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.warn} warnings, ${counts.error} errors, ${mustFailures} MUST failures`);
process.exit(mustFailures === 0 ? 0 : 1);

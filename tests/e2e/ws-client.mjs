// Runs operations through the graphql-ws library's own client (graphql-transport-ws), to show
// that a stock client talks to vsys's websocket on /graphql.
//
//   node tests/e2e/ws-client.mjs ws://127.0.0.1:8080/graphql
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.argv[2] ?? 'ws://127.0.0.1:8080/graphql';
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });

function run(payload) {
  return new Promise((resolve, reject) => {
    const results = [];
    client.subscribe(payload, {
      next: (value) => results.push(value),
      error: reject,
      complete: () => resolve(results),
    });
  });
}

let failures = 0;
function check(name, condition) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}`);
  if (!condition) failures += 1;
}

try {
  const [result] = await run({ query: '{ prefecture(code: "13") { name nameRomaji } }' });
  check('query over the websocket returns data', result?.data?.prefecture?.nameRomaji === 'Tokyo');

  const variables = await run({
    query: 'query($code: String!) { municipality(code: $code) { nameRomaji } }',
    variables: { code: '131105' },
  });
  check('variables are honoured', variables[0]?.data?.municipality?.nameRomaji === 'Meguro-ku');

  let validation;
  try {
    await run({ query: '{ noSuchField }' });
  } catch (errors) {
    validation = errors;
  }
  check('a validation error arrives as an error message', Array.isArray(validation) && validation[0]?.extensions?.code === 'INVALID_INPUT');
} catch (error) {
  console.log('FAIL unexpected error', error);
  failures += 1;
} finally {
  await client.dispose();
}
console.log(`graphql-ws client: ${failures === 0 ? 'all checks passed' : `${failures} failed`}`);
process.exit(failures === 0 ? 0 : 1);

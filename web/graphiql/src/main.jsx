// GraphiQL for vsys: the stock GraphiQL (editor with completion and validation from the schema,
// docs explorer, history, prettify, headers) with this server's transports and two plugins:
// the example operations per role, and a sign-in helper that runs both steps and puts the
// token in the headers. Subscriptions run over graphql-ws with the Authorization header sent in
// `connection_init`, as this server expects.
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useEditorContext } from '@graphiql/react';
import { createClient } from 'graphql-ws';
import { getOperationAST, parse } from 'graphql';

const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

function operationType(params) {
  try {
    return getOperationAST(parse(params.query), params.operationName || undefined)?.operation;
  } catch {
    return undefined;
  }
}

/** Queries and mutations over HTTP; subscriptions over a websocket of their own. */
function fetcher(params, options) {
  const headers = { ...(options?.headers ?? {}) };
  if (operationType(params) === 'subscription') {
    const authorization = headers.Authorization ?? headers.authorization;
    const client = createClient({
      url: WS_URL,
      connectionParams: authorization ? { authorization } : {},
      lazy: true,
      retryAttempts: 0,
    });
    const iterator = client.iterate({ query: params.query, variables: params.variables, operationName: params.operationName });
    return {
      [Symbol.asyncIterator]() {
        return {
          next: () => iterator.next(),
          return: async () => {
            await iterator.return?.();
            await client.dispose();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }
  return fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(params),
  }).then((response) => response.json());
}

/** The leading comment's `# variables: {...}` of an example, pretty-printed. */
function variablesOf(body) {
  for (const line of body.split(/\r?\n/)) {
    const text = line.trim();
    if (!text) continue;
    if (!text.startsWith('#')) break;
    const found = /^#\s*variables\s*:\s*(.+)$/i.exec(text);
    if (found) {
      try {
        return JSON.stringify(JSON.parse(found[1]), null, 2);
      } catch {
        return '';
      }
    }
  }
  return '';
}

function ExamplesPanel() {
  const { queryEditor, variableEditor } = useEditorContext({ nonNull: true });
  const [operations, setOperations] = useState([]);
  useEffect(() => {
    fetch('/playground/operations').then((r) => r.json()).then(setOperations).catch(() => setOperations([]));
  }, []);
  const roles = [...new Set(operations.map((o) => o.role))];
  return (
    <div className="vsys-examples">
      <div className="graphiql-doc-explorer-title">Examples / 例</div>
      {roles.map((role) => (
        <section key={role}>
          <h3>{role}</h3>
          <ul>
            {operations.filter((o) => o.role === role).map((o) => (
              <li key={o.file}>
                <button
                  type="button"
                  className="vsys-example"
                  data-name={o.name}
                  onClick={() => {
                    queryEditor?.setValue(o.body);
                    variableEditor?.setValue(variablesOf(o.body));
                  }}
                >
                  {o.name}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

async function post(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

function SignInPanel() {
  const { headerEditor } = useEditorContext({ nonNull: true });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState(null);
  const [code, setCode] = useState('');
  const [message, setMessage] = useState('');
  const start = async (event) => {
    event.preventDefault();
    try {
      const data = await post('mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId method } }', { u: username, p: password });
      setChallenge(data.signIn);
      setMessage(data.signIn.method === 'TOTP' ? 'Code from your authenticator app / 認証アプリのコード' : 'Code sent by e-mail / メールで届いたコード');
    } catch (error) {
      setMessage(error.message);
    }
  };
  const finish = async (event) => {
    event.preventDefault();
    try {
      const data = await post('mutation($c: String!, $k: String!) { verifySecondFactor(challengeId: $c, code: $k) { token user { username role } } }', { c: challenge.challengeId, k: code });
      const token = data.verifySecondFactor.token;
      headerEditor?.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
      setMessage(`Signed in as ${data.verifySecondFactor.user.username} (${data.verifySecondFactor.user.role}): the Authorization header is set / ヘッダーに設定しました`);
      setChallenge(null);
      setCode('');
    } catch (error) {
      setMessage(error.message);
    }
  };
  return (
    <div className="vsys-sign-in">
      <div className="graphiql-doc-explorer-title">Sign in / サインイン</div>
      {challenge ? (
        <form onSubmit={finish}>
          <label>6-digit code / 認証コード <input id="vsys-code" value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="one-time-code" /></label>
          <button type="submit" className="graphiql-button">Verify / 確認</button>
        </form>
      ) : (
        <form onSubmit={start}>
          <label>Username / ユーザー名 <input id="vsys-username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" /></label>
          <label>Password / パスワード <input id="vsys-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" /></label>
          <button type="submit" className="graphiql-button">Next / 次へ</button>
        </form>
      )}
      <p id="vsys-sign-in-message" role="status">{message}</p>
    </div>
  );
}

const icon = (text) => function Icon() {
  return <span className="vsys-plugin-icon" aria-hidden="true">{text}</span>;
};

const plugins = [
  { title: 'Examples / 例', icon: icon('例'), content: ExamplesPanel },
  { title: 'Sign in / サインイン', icon: icon('鍵'), content: SignInPanel },
];

const DEFAULT_QUERY = `# vsys GraphQL: Ctrl+Space completes, Ctrl+Enter runs. Examples and sign-in are in the
# sidebar (例, 鍵). / 補完は Ctrl+Space、実行は Ctrl+Enter。例とサインインは左のバーから。
query Prefectures {
  prefectures(first: 5) {
    edges {
      node {
        code
        name
        nameRomaji
      }
    }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL fetcher={fetcher} plugins={plugins} defaultQuery={DEFAULT_QUERY} shouldPersistHeaders isHeadersEditorEnabled />,
);

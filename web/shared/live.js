// GraphQL for vsys's pages: queries and mutations over HTTP, subscriptions over one
// graphql-ws websocket (the graphql-transport-ws protocol) that reconnects by itself.
//
// The socket reports its state ('connecting', 'live', 'offline') so a page can show whether it
// is live. Subscriptions are sent again after a reconnect, and the page hears of the reconnect
// (`onReconnect`) so it can read what it missed while the socket was down.

/** An error the API answered with, carrying its `extensions.code`. */
export class ApiError extends Error {
  constructor(message, code, errors) {
    super(message);
    this.code = code;
    this.errors = errors;
  }
}

/** Runs a query or mutation; resolves to its `data`, rejects with an ApiError. */
export async function graphql(document, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query: document, variables }) });
  } catch (error) {
    throw new ApiError(String(error), 'NETWORK');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, response.status === 429 ? 'RATE_LIMITED' : 'HTTP');
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? 'ERROR', body.errors);
  }
  return body.data;
}

/**
 * Runs a mutation with a file (the GraphQL multipart request): `fileVariable` names the
 * variable that receives `file`. The preflight header is what the server asks of a request that
 * a form on another site could not send.
 */
export async function upload(document, variables, fileVariable, file, token = null) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: document, variables: { ...variables, [fileVariable]: null } }));
  form.append('map', JSON.stringify({ 0: [`variables.${fileVariable}`] }));
  form.append('0', file, file.name);
  const headers = { 'apollo-require-preflight': 'true', accept: 'application/graphql-response+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  try {
    const response = await fetch('/graphql', { method: 'POST', headers, body: form });
    body = await response.json();
  } catch (error) {
    throw new ApiError(String(error), 'NETWORK');
  }
  if (body.errors?.length) throw new ApiError(body.errors[0].message, body.errors[0].extensions?.code ?? 'ERROR', body.errors);
  return body.data;
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

/** One websocket for a page's subscriptions. */
export class LiveSocket {
  /**
   * @param {{ token?: string, onState?: (state: string) => void, onReconnect?: () => void }} options
   */
  constructor({ token = null, onState = () => {}, onReconnect = () => {} } = {}) {
    this.token = token;
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.everAcknowledged = false;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    this.onState('connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    const ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws = ws;
    this.acknowledged = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: this.token ? { authorization: `Bearer ${this.token}` } : {} }));
    };
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      switch (message.type) {
        case 'connection_ack': {
          this.acknowledged = true;
          this.attempt = 0;
          this.onState('live');
          for (const [id, sub] of this.subscriptions) this.sendSubscribe(id, sub);
          if (this.everAcknowledged) this.onReconnect();
          this.everAcknowledged = true;
          break;
        }
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'next': {
          const sub = this.subscriptions.get(message.id);
          if (!sub) break;
          if (message.payload?.errors?.length) sub.error?.(message.payload.errors);
          else sub.next(message.payload.data);
          break;
        }
        case 'error': {
          const sub = this.subscriptions.get(message.id);
          this.subscriptions.delete(message.id);
          sub?.error?.(message.payload);
          break;
        }
        case 'complete':
          this.subscriptions.delete(message.id);
          break;
        default:
          break;
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onState(this.closed ? 'closed' : 'offline');
      if (this.closed) return;
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  sendSubscribe(id, sub) {
    if (this.ws?.readyState === WebSocket.OPEN && this.acknowledged) {
      this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: sub.document, variables: sub.variables } }));
    }
  }

  /** Starts a subscription; returns the function that stops it. */
  subscribe(document, variables, { next, error }) {
    const id = String(this.nextId++);
    const sub = { document, variables, next, error };
    this.subscriptions.set(id, sub);
    this.sendSubscribe(id, sub);
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.ws?.readyState === WebSocket.OPEN && this.acknowledged) {
        this.ws.send(JSON.stringify({ id, type: 'complete' }));
      }
    };
  }

  /** Drops the connection as a network failure would (the page then reconnects). */
  drop() {
    this.ws?.close(4000, 'dropped');
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    this.ws?.close(1000, 'page closed');
  }
}

/**
 * `requestAPI`: whatever the server (or a proxy in front of it) answers, the
 * caller gets the parsed JSON or one ReproAPIError with a one-line message;
 * never a raw exception from JSON.parse or fetch.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ReproAPIError, requestAPI, URL_PREFIX } from '../api';

function serverAnswering(body: string, status = 200, statusText = '') {
  const fetch = jest.fn(
    async (_input: RequestInfo, _init?: RequestInit) =>
      new Response(body, {
        status,
        statusText,
        headers: { 'Content-Type': 'application/json' }
      })
  );
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8123/lab-base/',
    fetch: fetch as unknown as typeof window.fetch
  });
  return { fetch, settings };
}

async function failure(promise: Promise<unknown>): Promise<ReproAPIError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ReproAPIError);
    return error as ReproAPIError;
  }
  throw new Error('the request did not fail');
}

describe('requestAPI', () => {
  it('calls the route under the server base URL and returns its JSON', async () => {
    const { fetch, settings } = serverAnswering(
      '{"name": "repro-jupyter", "schema_version": 1}'
    );
    const data = await requestAPI<{ name: string }>('info', {}, settings);
    expect(data).toEqual({ name: 'repro-jupyter', schema_version: 1 });
    const request = fetch.mock.calls[0][0] as Request;
    const url = new URL(request.url); // JupyterLab adds a cache-busting query to GETs
    expect(url.origin + url.pathname).toBe(
      `http://localhost:8123/lab-base/${URL_PREFIX}/info`
    );
  });

  it("reports the server's own message for an error", async () => {
    const { settings } = serverAnswering(
      '{"message": "no such notebook: a.ipynb"}',
      404,
      'Not Found'
    );
    const error = await failure(requestAPI('provenance', {}, settings));
    expect(error.message).toBe('no such notebook: a.ipynb');
    expect(error.status).toBe(404);
  });

  it('falls back to the HTTP status when the error body is not JSON', async () => {
    const { settings } = serverAnswering(
      '<html>Bad Gateway</html>',
      502,
      'Bad Gateway'
    );
    const error = await failure(requestAPI('compare', {}, settings));
    expect(error.message).toBe('502 Bad Gateway');
    expect(error.status).toBe(502);
  });

  it('ignores a message that is not a string', async () => {
    const { settings } = serverAnswering(
      '{"message": {"html": "<b>x</b>"}}',
      500,
      'Internal Server Error'
    );
    const error = await failure(requestAPI('compare', {}, settings));
    expect(error.message).toBe('500 Internal Server Error');
  });

  it.each([
    ['an empty body', ''],
    ['HTML', '<!doctype html><p>login</p>'],
    ['cut-off JSON', '{"cells": [1, 2'],
    ['JSON null', 'null']
  ])('refuses %s from a successful answer', async (_what, body) => {
    const { settings } = serverAnswering(body, 200);
    const error = await failure(requestAPI('lineage', {}, settings));
    expect(error.message).toBe('lineage: the server sent no JSON');
    expect(error.status).toBe(200);
  });

  it('says the server cannot be reached when fetch fails', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8123/',
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as unknown as typeof window.fetch
    });
    const error = await failure(requestAPI('info', {}, settings));
    expect(error.message).toMatch(
      /^cannot reach the server: .*Failed to fetch/
    );
    expect(error.status).toBeNull();
  });
});

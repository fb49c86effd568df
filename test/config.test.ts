import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('starts with no configuration at all, on the embedded simulator', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      carrierx: {
        baseUrl: undefined,
        token: undefined,
        timeoutMs: 10_000,
        includeFieldsParam: 'include_fields',
      },
    });
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ CARRIERX_BASE_URL: '', CARRIERX_TOKEN: '', PORT: '' });
    expect(config.carrierx.baseUrl).toBeUndefined();
    expect(config.carrierx.token).toBeUndefined();
    expect(config.port).toBe(4000);
  });

  it('names every bad variable in one message, without echoing a token', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        CARRIERX_BASE_URL: 'ftp://example.com',
        CARRIERX_TIMEOUT_MS: '-1',
        CARRIERX_TOKEN: 'has space',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'CARRIERX_BASE_URL', 'CARRIERX_TIMEOUT_MS', 'CARRIERX_TOKEN'])
      expect(message).toContain(name);
    expect(message).not.toContain('has space');
  });

  it('drops a trailing slash from CARRIERX_BASE_URL', () => {
    expect(loadConfig({ CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2/' }).carrierx.baseUrl).toBe(
      'https://api.carrierx.com/core/v2',
    );
  });

  it('refuses to serve the simulator as CarrierX in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /CARRIERX_BASE_URL: is required when NODE_ENV=production/,
    );
    expect(
      loadConfig({ NODE_ENV: 'production', CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2' })
        .production,
    ).toBe(true);
  });

  it('refuses a NODE_ENV it does not know rather than quietly using development defaults', () => {
    expect(() => loadConfig({ NODE_ENV: 'Production' })).toThrow(
      /NODE_ENV: must be development, production or test/,
    );
  });

  it('keeps upstream calls in flight within the connection pool', () => {
    expect(() => loadConfig({ CARRIERX_CONNECTIONS: '8', CARRIERX_MAX_CONCURRENT_CALLS: '16' })).toThrow(
      /CARRIERX_MAX_CONCURRENT_CALLS: must not exceed CARRIERX_CONNECTIONS/,
    );
  });
});

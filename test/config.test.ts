import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, variables } from '../src/config/index.ts';

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

  it('lets loopback origins call cross-origin only while developing on the embedded simulator with CORS_ORIGINS unset', () => {
    expect(loadConfig({}).corsLoopback).toBe(true);
    expect(
      loadConfig({ CARRIERX_BASE_URL: 'http://127.0.0.1:9/core/v2', EMBEDDED_SIMULATOR_WORKER: 'true' })
        .corsLoopback,
    ).toBe(true);
    expect(loadConfig({ CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2' }).corsLoopback).toBe(false);
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com' }).corsLoopback).toBe(false);
    expect(
      loadConfig({ NODE_ENV: 'production', CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2' })
        .corsLoopback,
    ).toBe(false);
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

  it('refuses a REDIS_TIMEOUT_MS that could cost a request its deadline', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(() => loadConfig({ ...redis, REDIS_TIMEOUT_MS: '1000', REQUEST_DEADLINE_MS: '2000' })).toThrow(
      /REDIS_TIMEOUT_MS: must be at most a quarter of REQUEST_DEADLINE_MS/,
    );
    expect(
      loadConfig({ ...redis, REDIS_TIMEOUT_MS: '500', REQUEST_DEADLINE_MS: '2000' }).cache,
    ).toMatchObject({
      redisTimeoutMs: 500,
    });
    // Without Redis the timeout bounds nothing.
    expect(() => loadConfig({ REDIS_TIMEOUT_MS: '1000', REQUEST_DEADLINE_MS: '2000' })).not.toThrow();
  });

  it('waits 5 s after SIGTERM in production for balancers to see /ready fail, and not at all in development', () => {
    const production = { NODE_ENV: 'production', CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2' };
    expect(loadConfig(production).http.shutdownDelayMs).toBe(5000);
    expect(loadConfig({}).http.shutdownDelayMs).toBe(0);
    expect(loadConfig({ ...production, SHUTDOWN_DELAY_MS: '250' }).http.shutdownDelayMs).toBe(250);
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

  it('sizes the CarrierX pool from the limit on calls in flight, not the other way round', () => {
    const defaults = loadConfig({}).carrierx;
    expect([defaults.connections, defaults.policies.maxConcurrentCalls, defaults.http2]).toEqual([
      256,
      256,
      false,
    ]);
    expect(defaults.policies).toMatchObject({ minConcurrentCalls: 8, adaptiveConcurrency: true });
    expect(loadConfig({ CARRIERX_MAX_CONCURRENT_CALLS: '500' }).carrierx.connections).toBe(500);
    // Set alone, CARRIERX_CONNECTIONS still caps calls in flight, as it did before the limit was its own setting.
    expect(loadConfig({ CARRIERX_CONNECTIONS: '32' }).carrierx.policies.maxConcurrentCalls).toBe(32);
    // HTTP/2 carries many calls on one connection.
    const h2 = loadConfig({ CARRIERX_HTTP2: 'on', CARRIERX_MAX_CONCURRENT_CALLS: '500' }).carrierx;
    expect([h2.http2, h2.connections]).toEqual([true, 5]);
    expect(() =>
      loadConfig({ CARRIERX_HTTP2: 'on', CARRIERX_CONNECTIONS: '1', CARRIERX_MAX_CONCURRENT_CALLS: '150' }),
    ).toThrow(/CARRIERX_MAX_CONCURRENT_CALLS: must not exceed CARRIERX_CONNECTIONS/);
  });

  it('keeps the adaptive floor under its ceiling, and lets the limit be fixed', () => {
    expect(() => loadConfig({ CARRIERX_MIN_CONCURRENT_CALLS: '300' })).toThrow(
      /CARRIERX_MIN_CONCURRENT_CALLS: must not exceed CARRIERX_MAX_CONCURRENT_CALLS/,
    );
    // A ceiling below the default floor brings the floor down with it.
    expect(loadConfig({ CARRIERX_MAX_CONCURRENT_CALLS: '2' }).carrierx.policies.minConcurrentCalls).toBe(2);
    expect(loadConfig({ CARRIERX_ADAPTIVE_CONCURRENCY: 'off' }).carrierx.policies.adaptiveConcurrency).toBe(
      false,
    );
    expect(() => loadConfig({ CARRIERX_ADAPTIVE_CONCURRENCY: 'maybe' })).toThrow(
      /CARRIERX_ADAPTIVE_CONCURRENCY: must be true or false/,
    );
  });

  it.each(['0x100C', '1e3', '80.0', ' 80', '+80', '0b1'])(
    'refuses PORT=%s: ports are decimal integers',
    (port) => {
      expect(() => loadConfig({ PORT: port })).toThrow(/PORT: must be a whole number from 0 to 65535/);
    },
  );

  it('refuses credentials in CARRIERX_BASE_URL, points to the token, and does not repeat them', () => {
    let message = '';
    try {
      loadConfig({ CARRIERX_BASE_URL: 'https://carrierx-admin:s3cr3t-pw@api.carrierx.com/core/v2' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/CARRIERX_BASE_URL: .*CARRIERX_TOKEN/);
    expect(message).not.toContain('s3cr3t-pw');
    expect(message).not.toContain('carrierx-admin');
    expect(() => loadConfig({ CARRIERX_BASE_URL: 'https://:pw@api.carrierx.com/core/v2' })).toThrow(
      /CARRIERX_BASE_URL/,
    );
  });

  it.each(['off', 'OFF', 'Off'])(
    'sends no field-filtering parameter with CARRIERX_INCLUDE_FIELDS_PARAM=%s',
    (value) => {
      expect(
        loadConfig({ CARRIERX_INCLUDE_FIELDS_PARAM: value }).carrierx.includeFieldsParam,
      ).toBeUndefined();
    },
  );

  it('sends CarrierX no unconfirmed filter operator unless CARRIERX_FILTER_OPERATORS names it, and refuses others', () => {
    expect([...loadConfig({}).carrierx.filterOperators]).toEqual([]);
    expect([...loadConfig({ CARRIERX_FILTER_OPERATORS: 'in, LE' }).carrierx.filterOperators]).toEqual([
      'in',
      'le',
    ]);
    expect(() => loadConfig({ CARRIERX_FILTER_OPERATORS: 'in,ne' })).toThrow(
      'CARRIERX_FILTER_OPERATORS: must name operators among in, le, comma-separated',
    );
  });

  it('answers any Host by default, but only loopback and HOST once a fallback CARRIERX_TOKEN exists', () => {
    expect(loadConfig({}).http.allowedHosts).toEqual(['*']);
    expect(loadConfig({ CARRIERX_TOKEN: 't' }).http.allowedHosts).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
    ]);
    expect(loadConfig({ CARRIERX_TOKEN: 't', HOST: '10.0.0.5' }).http.allowedHosts).toContain('10.0.0.5');
    // Spelled as the Host header's hostname is compared: IPv6 compressed and bracketed.
    expect(loadConfig({ CARRIERX_TOKEN: 't', HOST: 'fd00:0:0::1' }).http.allowedHosts).toContain('[fd00::1]');
    expect(loadConfig({ CARRIERX_TOKEN: 't', ALLOWED_HOSTS: '[FD00:0::2]' }).http.allowedHosts).toContain(
      '[fd00::2]',
    );
    expect(
      loadConfig({ CARRIERX_TOKEN: 't', ALLOWED_HOSTS: 'API.example.com., gw.internal' }).http.allowedHosts,
    ).toEqual(['localhost', '127.0.0.1', '[::1]', 'api.example.com', 'gw.internal']);
    expect(loadConfig({ ALLOWED_HOSTS: 'api.example.com' }).http.allowedHosts).toContain('api.example.com');
    expect(loadConfig({ ALLOWED_HOSTS: 'api.example.com' }).http.allowedHosts).not.toContain('*');
    expect(loadConfig({ CARRIERX_TOKEN: 't', ALLOWED_HOSTS: '*' }).http.allowedHosts).toEqual(['*']);
  });

  it.each(['api.example.com:443', 'https://api.example.com', 'a b', '[not:ipv6]', '999.1.1.1.'])(
    'refuses ALLOWED_HOSTS=%s',
    (value) => {
      expect(() => loadConfig({ ALLOWED_HOSTS: value })).toThrow(
        /ALLOWED_HOSTS: must be a comma-separated list/,
      );
    },
  );

  it('has HTTP server timeouts and a connection cap, and keeps the headers timeout within the request timeout', () => {
    expect(loadConfig({}).http).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 1_024,
    });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS/,
    );
  });

  it('warns of a variable that looks like one of ours, naming the one it probably meant', () => {
    const config = loadConfig({ CARRIERX_BASEURL: 'https://api.carrierx.com/core/v2', METRICS_PROT: '9000' });
    expect(config.warnings.map((w) => w.message)).toEqual([
      'CARRIERX_BASEURL is not a variable this service reads: did you mean CARRIERX_BASE_URL?',
      'METRICS_PROT is not a variable this service reads: did you mean METRICS_PORT?',
    ]);
    // The typo's setting stays at its default: what the warning is for.
    expect(config.carrierx.baseUrl).toBeUndefined();
  });

  it('refuses to start in production on a variable that looks like one of ours, naming it and the one meant', () => {
    const env = {
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2',
      CACHE_TTL: '60000',
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        {
          variable: 'CACHE_TTL',
          problem: 'is not a variable this service reads: did you mean CACHE_TTL_MS?',
        },
      ]);
      expect((error as ConfigError).message).toContain('CACHE_TTL: ');
    }
  });

  it('names a typo alongside the bad values in production, in one error', () => {
    try {
      loadConfig({
        NODE_ENV: 'production',
        CARRIERX_BASE_URL: 'https://a.example',
        PORT: 'x',
        MAX_QUERY_DEPT: '5',
      });
      expect.unreachable('the configuration is invalid');
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'MAX_QUERY_DEPT',
        'PORT',
      ]);
    }
  });

  it('never flags a declared variable, a standard OpenTelemetry one, or a variable of other programs', () => {
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2',
      // Not ours at all.
      PATH: '/usr/bin',
      HOSTNAME: 'cdr-api-7d9f',
      HOME: '/home/node',
      NODE_OPTIONS: '--max-old-space-size=512',
      HTTP_PROXY: 'http://proxy:3128',
      // OpenTelemetry's, left to the SDK or to other services.
      OTEL_PROPAGATORS: 'tracecontext,baggage',
      OTEL_LOG_LEVEL: 'info',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_MAX_QUEUE_SIZE: '4096',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1024',
      // Kubernetes' links to a service named redis.
      REDIS_SERVICE_HOST: '10.0.0.7',
      REDIS_SERVICE_PORT: '6379',
      REDIS_PORT: 'tcp://10.0.0.7:6379',
      REDIS_PORT_6379_TCP_ADDR: '10.0.0.7',
    };
    const config = loadConfig(env);
    expect(config.warnings).toEqual([]);
    // Every declared variable present (empty counts as unset, so each is valid): none is mistaken for a typo.
    const everyDeclared = Object.fromEntries(Object.keys(variables).map((name) => [name, '']));
    expect(loadConfig(everyDeclared).warnings).toEqual([]);
  });

  it('warns of an OTEL_ variable that is not a standard one (a typo of one this service reads)', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPIONT: 'http://collector:4318' }).warnings).toMatchObject([
      { variable: 'OTEL_EXPORTER_OTLP_ENDPIONT', suggestion: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    ]);
  });

  it('binds the metrics listener to HOST unless METRICS_HOST names another interface', () => {
    expect(loadConfig({ HOST: '10.0.0.5' }).metricsHost).toBe('10.0.0.5');
    expect(loadConfig({ HOST: '0.0.0.0', METRICS_HOST: '127.0.0.1' }).metricsHost).toBe('127.0.0.1');
    expect(loadConfig({ METRICS_HOST: '' }).metricsHost).toBe('0.0.0.0');
  });
});

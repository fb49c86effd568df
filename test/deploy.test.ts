import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { type IContainer, type IEnvVar, Secret, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig, variables } from '../src/config/index.ts';
import { shutdownBoundMs } from '../src/lifecycle.ts';
import { freePort } from './helpers/free-port.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// The Kubernetes manifests under deploy/, checked offline: each against the Kubernetes (and prometheus-operator)
// schemas of kubernetes-models, and against the service itself (its config schema, its probe paths, its drain
// bound), so that a manifest and the code it deploys cannot drift apart without this file failing.

const DEPLOY = new URL('../deploy/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, DEPLOY), 'utf8');

/** The one manifest that is an example only (never applied as it is), beside those kustomization.yaml lists. */
const EXAMPLE_SECRET = 'secret.example.yaml';

/** Beyond the moment the server gives up on its own: its exit (closing pools, flushing spans) before SIGKILL. */
const EXIT_MARGIN_MS = 5_000;

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  data: Record<string, unknown>;
}

function manifestsOf(file: string): Manifest[] {
  return parseAllDocuments(read(file)).map((document) => {
    expect(document.errors, `${file} is valid YAML`).toEqual([]);
    const data = document.toJS() as Record<string, unknown>;
    return { file, apiVersion: String(data.apiVersion), kind: String(data.kind), data };
  });
}

const kustomization = parseYaml(read('kustomization.yaml')) as { resources: string[] };
const manifests = [...kustomization.resources, EXAMPLE_SECRET].flatMap(manifestsOf);

/** The one manifest of a kind, as its kubernetes-models class (typed; the schema test validates it). */
function only<T>(model: new (data: never) => T, kind: string): T {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return new model((found[0] as Manifest).data as never);
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

const deployment = only(Deployment, 'Deployment');
const pod = deployment.spec?.template.spec;
const container = pod?.containers[0] as IContainer;
const secret = only(Secret, 'Secret');
const service = only(Service, 'Service');
const podLabels = deployment.spec?.template.metadata?.labels ?? {};

/** The container's env as the process sees it, each Secret value taken from the example Secret. */
function containerEnv(): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).map((variable: IEnvVar) => {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) return [variable.name, secret.stringData?.[ref.key] ?? ''];
      return [variable.name, variable.value ?? ''];
    }),
  );
}

/** The container port a probe or Service names (by name or number). */
function containerPort(port: number | string | undefined): number | undefined {
  return (container.ports ?? []).find((p) => p.name === port || p.containerPort === port)?.containerPort;
}

/**
 * Validates `data` against `model`'s schema, and returns the schema's complaints and the fields it does not
 * declare. kubernetes-models lets an undeclared field through (a misspelt `averageUtilisation` passes), where
 * the API server refuses it (kubectl's strict field validation); its validators read every field their schema
 * declares, present or not, so a field no validator read is one no schema has.
 */
function validateStrictly(model: new (data: never) => { validate(): void }, data: unknown): string[] {
  const seen = new Map<object, { path: string; read: Set<string> }>();
  const track = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const read = new Set<string>();
    seen.set(value, { path, read });
    const children = new Map<string, unknown>();
    return new Proxy(value, {
      get(target, key, receiver) {
        const child = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || !Object.hasOwn(target, key)) return child;
        read.add(key);
        if (!children.has(key)) children.set(key, track(child, `${path}/${key}`));
        return children.get(key);
      },
    });
  };
  try {
    // The prototype's validate runs the schema on `this` as it is; an instance would validate a copy.
    model.prototype.validate.call(track(data, ''));
  } catch (error) {
    return [(error as Error).message];
  }
  return [...seen].flatMap(([object, { path, read }]) =>
    Object.keys(object)
      .filter((key) => !read.has(key))
      .map((key) => `${path}/${key} is not a field of its schema`),
  );
}

/** Kubernetes memory quantities as the manifests write them (Mi, Gi), in bytes. */
function bytes(quantity: number | string | undefined): number {
  const [, amount = '', unit = ''] = /^(\d+)(Mi|Gi)$/.exec(String(quantity)) ?? [];
  expect(amount, `${quantity} is a quantity in Mi or Gi`).not.toBe('');
  return Number(amount) * 1024 ** (unit === 'Gi' ? 3 : 2);
}

describe('the Kubernetes manifests (deploy/)', () => {
  it('lists every manifest in kustomization.yaml, all but the example Secret', () => {
    const files = readdirSync(DEPLOY).filter((file) => /\.ya?ml$/.test(file));
    expect(files.sort()).toEqual(['kustomization.yaml', ...kustomization.resources, EXAMPLE_SECRET].sort());
  });

  it('are each valid against the Kubernetes and prometheus-operator schemas, with no field they lack', () => {
    for (const { file, apiVersion, kind, data } of manifests) {
      const model = MODELS[`${apiVersion} ${kind}`];
      expect(model, `${file}: a schema for ${apiVersion} ${kind}`).toBeDefined();
      expect(validateStrictly(model as NonNullable<typeof model>, data), file).toEqual([]);
    }
  });

  it('set only variables the service reads, and pass its production configuration check', () => {
    const env = containerEnv();
    expect(Object.keys(env).filter((name) => !(name in variables))).toEqual([]);
    const config = loadConfig(env);
    expect(config.production).toBe(true);
    expect(config.warnings).toEqual([]);
  });

  it('take every secret from the Secret, by a key the example Secret shows with a placeholder', () => {
    const refs = (container.env ?? []).flatMap((variable) => {
      // A value is either written here or read from the Secret: no field or config map references to stub.
      expect(Object.keys(variable.valueFrom ?? {}).filter((from) => from !== 'secretKeyRef')).toEqual([]);
      return variable.valueFrom?.secretKeyRef ? [variable.valueFrom.secretKeyRef] : [];
    });
    expect(refs.map((ref) => ref.key).sort()).toEqual(['CACHE_KEY_SECRET', 'REDIS_URL']);
    for (const ref of refs) {
      expect(ref.name).toBe(secret.metadata?.name);
      expect(secret.stringData?.[ref.key]).toMatch(/CHANGE-ME/);
    }
    expect(secret.data).toBeUndefined();
  });

  it('give a pod longer to drain than the server takes before giving up on its requests', () => {
    const config = loadConfig(containerEnv());
    const drainMs = shutdownBoundMs(config);
    expect(config.http.shutdownDelayMs).toBeGreaterThan(0);
    expect((pod?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThanOrEqual(
      drainMs + EXIT_MARGIN_MS,
    );
  });

  it('take a pod out of the Service while it still serves, before the drain delay ends', () => {
    const config = loadConfig(containerEnv());
    const probe = container.readinessProbe;
    // Kubernetes' defaults: every 10 s, 3 failures, 1 s to answer.
    const noticedMs =
      ((probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3) + (probe?.timeoutSeconds ?? 1)) * 1000;
    expect(noticedMs).toBeLessThan(config.http.shutdownDelayMs);
  });

  it('probe /ready for readiness and /health for liveness on the GraphQL port', () => {
    const config = loadConfig(containerEnv());
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health');
    expect(containerPort(container.readinessProbe?.httpGet?.port)).toBe(config.port);
    expect(containerPort(container.livenessProbe?.httpGet?.port)).toBe(config.port);
    expect(container.startupProbe).toBeUndefined();
  });

  it('expose METRICS_PORT as its own container port, scraped at /metrics by the ServiceMonitor', () => {
    const config = loadConfig(containerEnv());
    const metricsPort = (container.ports ?? []).find((p) => p.name === 'metrics');
    expect(metricsPort?.containerPort).toBe(config.metricsPort);
    expect(metricsPort?.containerPort).not.toBe(config.port);
    const monitor = only(ServiceMonitor, 'ServiceMonitor');
    const endpoint = monitor.spec.endpoints?.[0];
    expect(endpoint?.path).toBe('/metrics');
    const servicePort = service.spec?.ports?.find((p) => p.name === endpoint?.port);
    expect(containerPort(servicePort?.targetPort)).toBe(config.metricsPort);
    expect(monitor.spec.selector.matchLabels).toEqual(service.metadata?.labels);
    const httpPort = service.spec?.ports?.find((p) => p.name === 'http');
    expect(containerPort(httpPort?.targetPort)).toBe(config.port);
  });

  it("select the Deployment's pods from the Service, the PodDisruptionBudget and the autoscaler", () => {
    expect(deployment.spec?.selector.matchLabels).toEqual(podLabels);
    expect(service.spec?.selector).toEqual(podLabels);
    expect(only(PodDisruptionBudget, 'PodDisruptionBudget').spec?.selector?.matchLabels).toEqual(podLabels);
    const hpa = only(HorizontalPodAutoscaler, 'HorizontalPodAutoscaler');
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata?.name });
    // The autoscaler owns the count: a replicas field would reset it on every apply.
    expect(deployment.spec?.replicas).toBeUndefined();
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    for (const spread of pod?.topologySpreadConstraints ?? []) {
      expect(spread.labelSelector?.matchLabels).toEqual(podLabels);
    }
    expect(pod?.topologySpreadConstraints?.map((spread) => spread.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
  });

  it('run the server unprivileged, without privilege escalation, on a read-only root filesystem', () => {
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext?.privileged).toBeUndefined();
  });

  it('ask for the memory one process was measured to use, with a limit above it', () => {
    const { requests, limits } = container.resources ?? {};
    expect(requests?.cpu).toBeDefined();
    // The figures measured and written beside the manifests (deploy/README.md): idle, under load, at 1,024
    // connections.
    const notes = read('README.md');
    const measured = [...notes.matchAll(/\| (\d+) MB \|/g)].map(([, mb]) => Number(mb) * 1e6);
    expect(measured.length).toBeGreaterThan(0);
    expect(bytes(requests?.memory)).toBeGreaterThan(Math.max(...measured.slice(0, -1)));
    expect(bytes(limits?.memory)).toBeGreaterThan(Math.max(...measured));
  });
});

/** The status of a GET with this Host header (fetch will not send another Host than its URL's). */
function statusOf(url: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).once('error', reject);
  });
}

describe('the probe and metrics paths the manifests name, on a running server', () => {
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startServerProcess({
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      ALLOWED_HOSTS: 'api.example.com',
    });
  });
  afterAll(() => server?.stop());

  it('answer 200, the probes whatever ALLOWED_HOSTS says (the kubelet asks by pod IP)', async () => {
    const origin = new URL(server.url).origin;
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(await statusOf(`${origin}${probe?.httpGet?.path}`, `10.1.2.3:${containerPort('http')}`)).toBe(
        200,
      );
    }
    const monitor = only(ServiceMonitor, 'ServiceMonitor');
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}${monitor.spec.endpoints?.[0]?.path}`);
    expect(scrape.status).toBe(200);
  });
});

describe('the Dockerfile', () => {
  it('pins its base image by digest in every stage', () => {
    const froms = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => /^FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) {
      // The tag stays for readers; the digest is what is pulled.
      expect(from).toMatch(/^FROM [a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}(\s+AS\s+\S+)?$/i);
    }
    const images = froms.map((from) => from.split(/\s+/)[1]);
    expect(new Set(images).size).toBe(1);
  });
});

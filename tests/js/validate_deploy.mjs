// Lints what deploy/ ships for containers, since no container engine runs here:
//   node tests/js/validate_deploy.mjs REPO_ROOT VERSION
// - every Kubernetes manifest in deploy/kubernetes/ against the Kubernetes API's schemas
//   (kubernetes-models: the OpenAPI schemas of each kind), plus what the schemas cannot see:
//   selectors that select the pods, the StatefulSet's headless Service, probes on /health and
//   /ready, the claim mounted at the data directory, the image's user and version;
// - deploy/Dockerfile with dockerfile-utils' linter, and what the image must be: multi-stage from
//   debian:bookworm-slim, a numeric non-root user, the data directory a volume, a HEALTHCHECK;
// - deploy/seccomp.json's shape, io_uring allowed (tests/tools/seccomp_profile_test.py runs the
//   server under it).
// Prints each problem and exits 1 if there is any.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import { validate as lintDockerfile } from 'dockerfile-utils';

const require = createRequire(import.meta.url);
const [root, version] = process.argv.slice(2);
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };
const dataDir = '/var/lib/foresight';

// --- Kubernetes ----------------------------------------------------------------------------
const models = { v1: 'kubernetes-models/v1', 'apps/v1': 'kubernetes-models/apps/v1',
                 'policy/v1': 'kubernetes-models/policy/v1' };
const docs = [];
const k8sDir = path.join(root, 'deploy/kubernetes');
for (const file of fs.readdirSync(k8sDir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(k8sDir, file), 'utf8'))) {
    const where = `${file}: ${doc.get('kind')} ${doc.getIn(['metadata', 'name'])}`;
    if (doc.errors.length) { problems.push(`${where}: ${doc.errors[0].message}`); continue; }
    const object = doc.toJS();
    const module = models[object.apiVersion];
    const Kind = module && require(module)[object.kind];
    if (!Kind) { problems.push(`${where}: no schema for ${object.apiVersion} ${object.kind}`); continue; }
    try { new Kind(object).validate(); } catch (e) { problems.push(`${where}: ${e.message}`); }
    docs.push({ file, where, object });
  }
}
const selects = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector ?? {}).length > 0;
const pods = docs.filter((d) => d.object.kind === 'Pod' || d.object.kind === 'StatefulSet');
const statefulSets = docs.filter((d) => d.object.kind === 'StatefulSet');
expect(statefulSets.length === 1, 'deploy/kubernetes has exactly one StatefulSet');
const dockerUid = (() => {
  const m = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8').match(/^USER (\d+)/m);
  return m ? Number(m[1]) : undefined;
})();
for (const { where, object } of pods) {
  const spec = object.kind === 'Pod' ? object.spec : object.spec.template.spec;
  expect(spec.securityContext?.runAsNonRoot === true, `${where}: runAsNonRoot`);
  expect(spec.securityContext?.runAsUser === dockerUid,
         `${where}: runAsUser ${spec.securityContext?.runAsUser} is the image's USER ${dockerUid}`);
  for (const c of spec.containers) {
    expect(c.image === `foresight:${version}`, `${where}: image ${c.image} is foresight:${version}`);
    expect(c.resources?.requests?.memory && c.resources?.limits?.memory, `${where}: memory request and limit`);
    expect(c.securityContext?.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation false`);
    const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dataDir);
    expect(mount, `${where}: ${dataDir} is mounted`);
    const claims = object.kind === 'StatefulSet'
      ? (object.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name)
      : spec.volumes.filter((v) => v.persistentVolumeClaim).map((v) => v.name);
    expect(mount && claims.includes(mount.name), `${where}: ${dataDir} is a persistent volume claim`);
  }
}
for (const { where, object } of statefulSets) {
  const template = object.spec.template;
  expect(selects(object.spec.selector.matchLabels, template.metadata.labels), `${where}: selector selects its pods`);
  const headless = docs.find((d) => d.object.kind === 'Service' && d.object.metadata.name === object.spec.serviceName);
  expect(headless?.object.spec.clusterIP === 'None', `${where}: serviceName ${object.spec.serviceName} is a headless Service`);
  const [c] = template.spec.containers;
  const http = (c.ports ?? []).find((p) => p.name === 'http');
  expect(http?.containerPort === 8080, `${where}: port http is 8080`);
  expect(c.livenessProbe?.httpGet?.path === '/health' && c.livenessProbe.httpGet.port === 'http', `${where}: liveness on /health`);
  expect(c.startupProbe?.httpGet?.path === '/health', `${where}: startup probe on /health`);
  expect(c.readinessProbe?.httpGet?.path === '/ready' && c.readinessProbe.httpGet.port === 'http', `${where}: readiness on /ready`);
  expect(template.spec.terminationGracePeriodSeconds >= 60, `${where}: time to seal on SIGTERM`);
  for (const d of docs.filter((d) => d.object.kind === 'Service' || d.object.kind === 'PodDisruptionBudget')) {
    const selector = d.object.kind === 'Service' ? d.object.spec.selector : d.object.spec.selector.matchLabels;
    expect(selects(selector, template.metadata.labels), `${d.where}: selects the StatefulSet's pods`);
    if (d.object.kind === 'Service') {
      expect(d.object.spec.ports.every((p) => p.targetPort === 'http'), `${d.where}: targets port http`);
    }
  }
}
expect(docs.some((d) => d.object.kind === 'PodDisruptionBudget'), 'deploy/kubernetes has a PodDisruptionBudget');

// --- Dockerfile ------------------------------------------------------------------------------
const dockerfile = fs.readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
for (const d of lintDockerfile(dockerfile)) {
  problems.push(`deploy/Dockerfile:${d.range.start.line + 1}: ${d.message}`);
}
const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
expect(froms.length >= 2, 'deploy/Dockerfile is multi-stage');
expect(froms.at(-1) === 'debian:bookworm-slim', `deploy/Dockerfile's image is from debian:bookworm-slim, not ${froms.at(-1)}`);
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
expect(dockerUid !== undefined && dockerUid !== 0 && /^USER \d+/m.test(finalStage), 'deploy/Dockerfile runs as a numeric non-root USER');
expect(new RegExp(`^VOLUME ${dataDir}$`, 'm').test(finalStage), `deploy/Dockerfile: VOLUME ${dataDir}`);
expect(/^HEALTHCHECK [^]*\/health/m.test(finalStage), 'deploy/Dockerfile: a HEALTHCHECK on /health');
expect(/^EXPOSE 8080$/m.test(finalStage), 'deploy/Dockerfile: EXPOSE 8080');
expect(fs.existsSync(path.join(root, 'deploy/Dockerfile.dockerignore')), 'deploy/Dockerfile.dockerignore');

// --- seccomp ---------------------------------------------------------------------------------
const profile = JSON.parse(fs.readFileSync(path.join(root, 'deploy/seccomp.json'), 'utf8'));
expect(profile.defaultAction === 'SCMP_ACT_ERRNO', 'deploy/seccomp.json refuses by default');
const allowed = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'execve']) {
  expect(allowed.has(name), `deploy/seccomp.json allows ${name}`);
}

for (const p of problems) console.error(p);
console.log(`${docs.length} manifests, the Dockerfile and the seccomp profile: ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);

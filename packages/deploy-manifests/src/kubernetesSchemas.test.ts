import { validateKubernetesObject } from './kubernetesSchemas';
import { manifestFiles, readYaml } from './testFiles';
import { VARIANT_FOLDERS } from './generate';

const files = manifestFiles('deploy/kubernetes');

function committedDeployment() {
  return readYaml(`${VARIANT_FOLDERS.workloadIdentity}/deployment.yaml`)[0];
}

describe("plain manifests against Kubernetes' OpenAPI schemas (kubernetes-models)", () => {
  it('finds the manifests of both variants, the common objects and the Secret templates', () => {
    expect(files).toEqual([
      'deploy/kubernetes/certificate/deployment.yaml',
      'deploy/kubernetes/certificate/serviceaccount.yaml',
      'deploy/kubernetes/common/ingress.yaml',
      'deploy/kubernetes/common/namespace.yaml',
      'deploy/kubernetes/common/pdb.yaml',
      'deploy/kubernetes/common/service.yaml',
      'deploy/kubernetes/secrets/secrets.template.yaml',
      'deploy/kubernetes/workload-identity/deployment.yaml',
      'deploy/kubernetes/workload-identity/serviceaccount.yaml',
    ]);
  });

  it.each(files)('every object in %s validates', file => {
    const objects = readYaml(file);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      expect({ kind: object.kind, problems: validateKubernetesObject(object) }).toEqual({
        kind: object.kind,
        problems: [],
      });
    }
  });

  it('refuses replicas "two" in the Deployment, naming the path', () => {
    const deployment = committedDeployment();
    deployment.spec.replicas = 'two';
    expect(validateKubernetesObject(deployment)).toEqual([
      'data/spec/replicas must be integer',
    ]);
  });

  it('refuses a probe without a port', () => {
    const deployment = committedDeployment();
    delete deployment.spec.template.spec.containers[0].readinessProbe.httpGet.port;
    expect(validateKubernetesObject(deployment)).toEqual([
      "data/spec/template/spec/containers/0/readinessProbe/httpGet must have required property port",
    ]);
  });

  it('refuses a container without a name', () => {
    const deployment = committedDeployment();
    delete deployment.spec.template.spec.containers[0].name;
    expect(validateKubernetesObject(deployment)).toEqual([
      "data/spec/template/spec/containers/0 must have required property name",
    ]);
  });

  it('refuses a Deployment without a selector', () => {
    const deployment = committedDeployment();
    delete deployment.spec.selector;
    expect(validateKubernetesObject(deployment)).toEqual([
      "data/spec must have required property selector",
    ]);
  });

  it('refuses a Service port that is not a number', () => {
    const [service] = readYaml('deploy/kubernetes/common/service.yaml');
    service.spec.ports[0].port = 'http';
    expect(validateKubernetesObject(service)).toEqual([
      'data/spec/ports/0/port must be integer',
    ]);
  });

  it('refuses an object without a valid name', () => {
    const [pdb] = readYaml('deploy/kubernetes/common/pdb.yaml');
    pdb.metadata.name = 'Backstage_PDB';
    expect(validateKubernetesObject(pdb)).toEqual([
      'data/metadata/name must be a DNS subdomain name',
    ]);
  });

  it('refuses a type it has no schema for instead of passing it unchecked', () => {
    const [pdb] = readYaml('deploy/kubernetes/common/pdb.yaml');
    pdb.apiVersion = 'policy/v1beta1';
    expect(validateKubernetesObject(pdb)).toEqual([
      'no Kubernetes schema for apiVersion policy/v1beta1 kind PodDisruptionBudget',
    ]);
  });
});

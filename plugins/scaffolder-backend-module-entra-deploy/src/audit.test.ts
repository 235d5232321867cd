import { mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { auditDeploy, DeployAuditRecord } from './audit';

function recordingAuditor() {
  const calls: Array<{ step: string; options: any }> = [];
  const auditor = mockServices.auditor.mock({
    async createEvent(options) {
      calls.push({ step: 'createEvent', options });
      return {
        success: async params => {
          calls.push({ step: 'success', options: params });
        },
        fail: async params => {
          calls.push({ step: 'fail', options: params });
        },
      };
    },
  });
  return { auditor, calls };
}

const record = (overrides: Partial<DeployAuditRecord> = {}) =>
  ({
    action: 'entra:deploy',
    initiator: {
      entityRef: 'user:default/carla.chen',
      oid: 'oid-carla',
      tid: 'tid-contoso',
    },
    template: 'template:default/deploy-component',
    component: 'component:default/payments-service',
    taskId: 'task-1',
    environment: 'staging',
    target: 'https://deploy.example/api',
    deploymentId: 'deploy-1',
    outcome: 'succeeded',
    ...overrides,
  } as DeployAuditRecord);

describe('auditDeploy', () => {
  it('names the verified initiator as the actor and the entities it is about', async () => {
    const { auditor, calls } = recordingAuditor();
    await auditDeploy(auditor, record());
    expect(calls.map(c => c.step)).toEqual(['createEvent', 'success']);
    const { meta } = calls[1].options;
    expect(meta).toMatchObject({
      actor: {
        kind: 'person',
        entityRef: 'user:default/carla.chen',
        oid: 'oid-carla',
        tid: 'tid-contoso',
      },
      // Old names kept for the log readers.
      initiator: { entityRef: 'user:default/carla.chen' },
      template: 'template:default/deploy-component',
      templateRef: 'template:default/deploy-component',
      componentRef: 'component:default/payments-service',
      entityRefs: [
        'component:default/payments-service',
        'template:default/deploy-component',
      ],
    });
    expect(calls[0].options.meta).toEqual(meta);
  });

  it('names the agent that deployed for the person', async () => {
    const { auditor, calls } = recordingAuditor();
    await auditDeploy(
      auditor,
      record({
        agent: { clientId: 'https://agent.example/c.json', grantId: 'g1' },
      }),
    );
    expect(calls[1].options.meta.actor).toEqual({
      kind: 'agent',
      entityRef: 'user:default/carla.chen',
      oid: 'oid-carla',
      tid: 'tid-contoso',
      clientId: 'https://agent.example/c.json',
    });
  });

  it('claims no person when a refusal came before anyone was known', async () => {
    const { auditor, calls } = recordingAuditor();
    await auditDeploy(
      auditor,
      record({
        initiator: { entityRef: null, oid: null, tid: null },
        template: null,
        component: null,
        outcome: 'failed',
      }),
      new NotAllowedError('no'),
    );
    expect(calls[1].options.meta).toMatchObject({
      actor: { kind: 'anonymous' },
      entityRefs: [],
    });
    expect(calls[1].options.meta.templateRef).toBeUndefined();
  });

  it('fails with the name and message only, never the cause or its token', async () => {
    const { auditor, calls } = recordingAuditor();
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ4In0.c2lnbmF0dXJl';
    // A target that echoed the request: its answer is the error's cause.
    const error = new NotAllowedError(
      'The deploy target refused the deploy',
      new Error(
        `401 for authorization: Bearer ${token} (${token.slice(0, 20)})`,
      ),
    );
    await auditDeploy(auditor, record({ outcome: 'failed' }), error);
    expect(calls.map(c => c.step)).toEqual(['createEvent', 'fail']);
    expect(calls[0].options.severityLevel).toBe('high');
    const failed = calls[1].options.error;
    expect(failed.name).toBe('NotAllowedError');
    expect(failed.message).toMatch(
      /^The deploy target refused the deploy; caused by Error: 401 for authorization: Bearer \[redacted\]/,
    );
    expect(failed.cause).toBeUndefined();
    const whole = JSON.stringify(calls, (_key, value) =>
      value instanceof Error
        ? { ...value, name: value.name, message: value.message }
        : value,
    );
    expect(whole).not.toContain(token.slice(0, 20));
    expect(whole).not.toMatch(/eyJ|Bearer (?!\[redacted\])/);
  });
});

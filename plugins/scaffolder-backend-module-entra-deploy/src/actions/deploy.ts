import { InputError, ServiceUnavailableError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CONFIG_KEY, DeployTarget } from '../config';
import {
  DELEGATED_TOKEN_SECRET,
  deployAsInitiator,
  DeployServices,
  describeFailure,
} from './shared';

/** The id of the deploy action, as the ownership policy names it. */
export const ENTRA_DEPLOY_ACTION_ID = 'entra:deploy';

/**
 * `entra:deploy`: calls the environment's deploy target as the person who
 * started the task, with a token Entra issued on their behalf.
 */
export function createEntraDeployAction(
  services: DeployServices,
  environments: Map<string, DeployTarget>,
) {
  return createTemplateAction({
    id: ENTRA_DEPLOY_ACTION_ID,
    description:
      `Deploys a component as the person who started the task: verifies their delegated Entra token (task secret '${DELEGATED_TOKEN_SECRET}') ` +
      "against the initiator, exchanges it on-behalf-of for the environment's deploy scope and calls the environment's deploy target. " +
      `Targets are configured under ${CONFIG_KEY}.environments.`,
    examples: [
      {
        description: 'Deploy the chosen component to the chosen environment',
        example: [
          'steps:',
          '  - id: deploy',
          '    name: Deploy',
          '    action: entra:deploy',
          '    input:',
          '      component: ${{ parameters.component }}',
          '      environment: ${{ parameters.environment }}',
          '      version: ${{ parameters.version }}',
          'output:',
          '  links:',
          '    - title: Deployment',
          '      url: ${{ steps.deploy.output.link }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        component: z =>
          z
            .string()
            .describe(
              'The deployed catalog entity as a full lowercase ref, e.g. component:default/payments-service (the permission policy matches its owners on it)',
            ),
        environment: z =>
          z
            .string()
            .describe(
              `The environment, one of ${CONFIG_KEY}.environments[].name`,
            ),
        version: z =>
          z.string().describe('The version to deploy, e.g. 1.4.2 or a commit'),
      },
      output: {
        deploymentId: z =>
          z.string().describe("The deploy target's id of the deployment"),
        status: z =>
          z.string().describe("The deploy target's status, e.g. accepted"),
        link: z =>
          z
            .string()
            .optional()
            .describe("The deployment's URL, when the target gives one"),
      },
    },
    async handler(ctx) {
      const { component, environment, version } = ctx.input;
      const target = environments.get(environment);
      if (!target) {
        throw new InputError(
          `No deploy target is configured for environment '${environment}': add it to ${CONFIG_KEY}.environments (configured: ${
            [...environments.keys()].join(', ') || 'none'
          }).`,
        );
      }
      const result = await deployAsInitiator(services, ctx, {
        action: ENTRA_DEPLOY_ACTION_ID,
        environment,
        component,
        target: target.url,
        scope: target.scope,
        call: async (accessToken, _identity, agent) => {
          const signals = [AbortSignal.timeout(target.timeoutMs)];
          if (ctx.signal) signals.push(ctx.signal);
          let res: Response;
          try {
            res = await fetch(target.url, {
              method: target.method,
              headers: {
                authorization: `Bearer ${accessToken}`,
                'content-type': 'application/json',
                accept: 'application/json',
                // Which agent the person let deploy as them, for the target's record.
                ...(agent && { 'x-portal-agent-client': agent.clientId }),
              },
              body: JSON.stringify({
                component,
                environment,
                version,
                taskId: ctx.task.id,
                template: ctx.templateInfo?.entityRef,
                initiator: ctx.user?.ref,
              }),
              signal: AbortSignal.any(signals),
            });
          } catch (e) {
            throw new ServiceUnavailableError(
              `The deploy target for ${environment} (${
                target.url
              }) could not be reached: ${(e as Error).name}.`,
            );
          }
          if (!res.ok) {
            throw new ServiceUnavailableError(
              `The deploy target for ${environment} (${
                target.url
              }) refused the deploy: ${await describeFailure(res)}.`,
            );
          }
          const body = (await res.json().catch(() => ({}))) as Record<
            string,
            unknown
          >;
          const deploymentId = String(body.id ?? '');
          if (!deploymentId) {
            throw new ServiceUnavailableError(
              `The deploy target for ${environment} (${target.url}) answered ${res.status} without a deployment id.`,
            );
          }
          const link = body.link ?? body.url;
          return {
            deploymentId,
            status: String(body.status ?? 'accepted'),
            link: typeof link === 'string' ? link : undefined,
          };
        },
      });
      ctx.logger.info(
        `Deployment ${result.deploymentId} of ${component} ${version} to ${environment}: ${result.status}`,
      );
      ctx.output('deploymentId', result.deploymentId);
      ctx.output('status', result.status);
      if (result.link) ctx.output('link', result.link);
    },
  });
}

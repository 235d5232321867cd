import { ServiceUnavailableError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { EntraDeployConfig } from '../config';
import { deployAsInitiator, DeployServices, describeFailure } from './shared';

/** The id of the Azure DevOps action. */
export const AZURE_DEVOPS_RUN_ACTION_ID = 'azure-devops:pipeline:run';

interface RunAnswer {
  id?: number;
  state?: string;
  result?: string;
  url?: string;
  _links?: { web?: { href?: string } };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('The task was cancelled while waiting for the run.'));
      },
      { once: true },
    );
  });

/**
 * `azure-devops:pipeline:run`: runs an Azure DevOps pipeline as the person
 * who started the task (on-behalf-of for Azure DevOps), so the run's
 * "requested for" and its audit trail in Azure DevOps name them.
 */
export function createAzureDevOpsPipelineRunAction(
  services: DeployServices,
  config: EntraDeployConfig['azureDevOps'],
) {
  return createTemplateAction({
    id: AZURE_DEVOPS_RUN_ACTION_ID,
    description:
      'Runs an Azure DevOps pipeline as the person who started the task, with their delegated Entra token exchanged on-behalf-of for Azure DevOps; optionally waits for the result.',
    examples: [
      {
        description: 'Run a pipeline on main and wait for it',
        example: [
          'steps:',
          '  - id: run',
          '    name: Run pipeline',
          '    action: azure-devops:pipeline:run',
          '    input:',
          '      organization: contoso',
          '      project: portal',
          '      pipelineId: 7',
          '      branch: refs/heads/main',
          '      templateParameters:',
          '        environment: staging',
          '      wait: true',
          'output:',
          '  links:',
          '    - title: Pipeline run',
          '      url: ${{ steps.run.output.runUrl }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        organization: z =>
          z
            .string()
            .min(1)
            .describe('The Azure DevOps organisation (or collection)'),
        project: z => z.string().min(1).describe('The project'),
        pipelineId: z =>
          z.number().int().positive().describe('The pipeline (definition) id'),
        branch: z =>
          z
            .string()
            .optional()
            .describe(
              "The branch to run, e.g. refs/heads/main (default: the pipeline's)",
            ),
        templateParameters: z =>
          z
            .record(z.string(), z.string())
            .optional()
            .describe("The pipeline's runtime parameters"),
        wait: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Wait for the run to finish; a run that does not succeed fails the step',
            ),
      },
      output: {
        runId: z => z.number().describe('The run id'),
        runUrl: z => z.string().describe("The run's page in Azure DevOps"),
        state: z => z.string().describe('inProgress, completed, …'),
        result: z =>
          z
            .string()
            .optional()
            .describe('succeeded, failed, canceled, when completed'),
      },
    },
    async handler(ctx) {
      const { organization, project, pipelineId, branch, templateParameters } =
        ctx.input;
      const runsUrl = `${config.host}/${encodeURIComponent(
        organization,
      )}/${encodeURIComponent(project)}/_apis/pipelines/${pipelineId}/runs`;
      const outcome = await deployAsInitiator(services, ctx, {
        action: AZURE_DEVOPS_RUN_ACTION_ID,
        environment: templateParameters?.environment,
        target: runsUrl,
        scope: config.scope,
        call: async accessToken => {
          const request = (url: string, init: RequestInit = {}) =>
            fetch(`${url}${url.includes('?') ? '&' : '?'}api-version=7.1`, {
              ...init,
              headers: {
                authorization: `Bearer ${accessToken}`,
                accept: 'application/json',
                'content-type': 'application/json',
              },
              signal: ctx.signal,
            });
          const created = await request(runsUrl, {
            method: 'POST',
            body: JSON.stringify({
              ...(branch && {
                resources: { repositories: { self: { refName: branch } } },
              }),
              ...(templateParameters && { templateParameters }),
            }),
          });
          if (!created.ok) {
            throw new ServiceUnavailableError(
              `Azure DevOps refused to run pipeline ${pipelineId} of ${organization}/${project}: ${await describeFailure(
                created,
              )}.`,
            );
          }
          let run = (await created.json()) as RunAnswer;
          const runUrl = run._links?.web?.href ?? run.url ?? runsUrl;
          ctx.logger.info(`Pipeline run ${run.id} started: ${runUrl}`);
          if (ctx.input.wait) {
            const deadline = Date.now() + config.waitTimeoutMs;
            while (run.state !== 'completed') {
              if (Date.now() > deadline) {
                throw new ServiceUnavailableError(
                  `Pipeline run ${run.id} did not finish within ${
                    config.waitTimeoutMs / 60_000
                  } minutes; it may still be running: ${runUrl}`,
                );
              }
              await sleep(config.pollIntervalMs, ctx.signal);
              const read = await request(`${runsUrl}/${run.id}`);
              if (!read.ok) {
                throw new ServiceUnavailableError(
                  `Could not read pipeline run ${
                    run.id
                  } (${await describeFailure(read)}); see ${runUrl}`,
                );
              }
              run = (await read.json()) as RunAnswer;
            }
            if (run.result !== 'succeeded') {
              throw new ServiceUnavailableError(
                `Pipeline run ${run.id} finished ${
                  run.result ?? 'without a result'
                }: ${runUrl}`,
              );
            }
          }
          return {
            deploymentId: String(run.id),
            runId: Number(run.id),
            runUrl,
            state: String(run.state ?? 'unknown'),
            result: run.result,
          };
        },
      });
      ctx.output('runId', outcome.runId);
      ctx.output('runUrl', outcome.runUrl);
      ctx.output('state', outcome.state);
      if (outcome.result) ctx.output('result', outcome.result);
    },
  });
}

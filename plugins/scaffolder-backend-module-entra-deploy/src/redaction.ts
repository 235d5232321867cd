import { LoggerService } from '@backstage/backend-plugin-api';

/**
 * Adds `values` to the step logger's redactions. Backstage 1.55 redacts only
 * the task's secrets; a token obtained inside an action is not one of them.
 * The step logger the scaffolder hands actions is a WinstonLogger with
 * `addRedactions`, which also redacts the step's error before it becomes a
 * task event or checkpoint failure. The type does not promise it, hence the
 * check: without it the action still never logs a token itself.
 */
export function redactInTaskLog(logger: LoggerService, ...values: string[]) {
  const withRedactions = logger as LoggerService & {
    addRedactions?: (redactions: Iterable<string>) => void;
  };
  if (typeof withRedactions.addRedactions === 'function') {
    withRedactions.addRedactions(values.filter(Boolean));
  }
}

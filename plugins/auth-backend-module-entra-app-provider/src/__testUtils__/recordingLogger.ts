import {
  coreServices,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';

/** One log call: level, message and the merged meta of the logger's children. */
export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: Record<string, unknown>;
}

function recorder(
  records: LogRecord[],
  base: Record<string, unknown>,
): LoggerService {
  const log =
    (level: LogRecord['level']) => (message: string, meta?: object | Error) =>
      records.push({
        level,
        message,
        meta: {
          ...base,
          ...(meta instanceof Error ? { error: String(meta) } : meta),
        },
      });
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: meta => recorder(records, { ...base, ...meta }),
  };
}

/** A root logger that keeps every line the backend logs, for assertions on logs. */
export function recordingRootLogger() {
  const records: LogRecord[] = [];
  return {
    records,
    factory: createServiceFactory({
      service: coreServices.rootLogger,
      deps: {},
      factory: () => recorder(records, {}),
    }),
  };
}

export interface Config {
  /** The audit trail (plugins/audit-backend, docs/audit.md). */
  audit?: {
    /** How long stored events are kept; a scheduled task removes older ones. */
    retention?: {
      /**
       * Events that occurred more than this many days ago are removed.
       * Default 400 (a year and a month, for yearly reviews).
       */
      maxAgeDays?: number;
      /**
       * How often the retention task runs, on one replica at a time.
       * Default every 6 hours.
       */
      frequency?:
        | string
        | {
            years?: number;
            months?: number;
            weeks?: number;
            days?: number;
            hours?: number;
            minutes?: number;
            seconds?: number;
            milliseconds?: number;
          };
    };
    /**
     * The queue between every plugin's auditor and the database: requests
     * never wait for the database, and an outage keeps at most this much.
     */
    buffer?: {
      /**
       * Events kept while the database cannot be written; beyond that new
       * events are dropped and counted (GET /api/audit/health, and an
       * `audit.events-dropped` event once writing works again). Default 10000.
       */
      maxEvents?: number;
      /** How often buffered events are written, in milliseconds. Default 1000. */
      flushIntervalMs?: number;
    };
    /** GET /api/audit/events/export */
    export?: {
      /**
       * Most events one export answers (newest first); a larger match is cut
       * there and answered with the header `X-Audit-Export-Truncated: true`,
       * narrow the filters to get the rest. Default 100000.
       */
      maxEvents?: number;
    };
  };
}

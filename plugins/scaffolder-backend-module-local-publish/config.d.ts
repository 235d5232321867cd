export interface Config {
  scaffolder?: {
    /**
     * publish:local (scaffolder-backend-module-local-publish): templates
     * publish into this folder instead of a Git host, and the catalog reads
     * what they published from the scaffolder's own URL. For development and
     * CI only: the files are served without sign-in so the catalog can read
     * them. Unset (as in production), the action does not exist.
     */
    localPublish?: {
      /**
       * Folder that receives one subfolder per published repository,
       * relative to the backend's working directory unless absolute.
       */
      directory?: string;
    };
  };
}

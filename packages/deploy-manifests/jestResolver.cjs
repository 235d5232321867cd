// kubernetes-models 5 and its own dependencies are ES modules that export
// only under the `import` condition; jest resolves with `require`. Resolve
// that package family (and whatever it imports) with `import`: the Backstage
// jest transform turns the files into CommonJS like any other dependency.
// package.json gives this package its own jest config `id`: the Backstage
// CLI derives every package's id from its transform alone, and jest workers
// keep one resolver per id, so in a whole-repository run a worker that had
// run another package's tests first resolved with that package's resolver
// (without this one) and failed: Cannot find module 'kubernetes-models/apps/v1'.
const esmOnly = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    esmOnly.test(request) || options.basedir.includes('/kubernetes-models/')
      ? { ...options, conditions: ['import', 'default'] }
      : options,
  );

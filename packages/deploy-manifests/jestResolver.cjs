// kubernetes-models 5 and its own dependencies are ES modules that export
// only under the `import` condition; jest resolves with `require`. Resolve
// that package family (and whatever it imports) with `import`: the Backstage
// jest transform turns the files into CommonJS like any other dependency.
const esmOnly = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    esmOnly.test(request) || options.basedir.includes('/kubernetes-models/')
      ? { ...options, conditions: ['import', 'default'] }
      : options,
  );

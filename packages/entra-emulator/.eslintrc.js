module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // Tests assert through small helpers named expect… (e.g. expectEntraError).
    'jest/expect-expect': ['warn', { assertFunctionNames: ['expect*'] }],
  },
});

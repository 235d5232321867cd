// Runs before `yarn install`: stop early, with the fix, on an unsupported Node.
// (Yarn does not enforce the root package's `engines` field.)
const major = Number(process.versions.node.split('.')[0]);
if (major !== 22 && major !== 24) {
  console.error(
    `\nThis portal needs Node.js 22 or 24; this is Node.js ${process.versions.node}.\n` +
      'Use Node 22 (proven here), e.g. `nvm install 22`, or run every command through\n' +
      '`bash scripts/toolchain.sh <command>`, which installs Node 22 from the npm registry.\n',
  );
  process.exit(1);
}

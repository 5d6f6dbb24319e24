// msgpackr-extract (msgpackr's native string decoder) in the CLI bundle: its prebuilt addon, loaded
// without the package's own loader. That loader (node-gyp-build-optional-packages) finds out the
// libc with detect-libc at load time, which took ~6 MiB of peak RSS and child_process in every
// agent. Here: the addon of this platform's package (an optional dependency of msgpackr-extract),
// for this node's ABI or N-API, glibc then musl (the wrong one fails to load: the next is tried;
// LIBC=musl or LIBC=glibc picks one, as with the original loader). None loads: msgpackr decodes in
// JavaScript, as it does when msgpackr-extract is not installed.
'use strict';
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');

function load() {
  let dir;
  try {
    const fromExtract = createRequire(require.resolve('msgpackr-extract/package.json'));
    dir = dirname(fromExtract.resolve(`@msgpackr-extract/msgpackr-extract-${process.platform}-${process.arch}/package.json`));
  } catch {
    return undefined;
  }
  const env = process.env.LIBC;
  const libcs = env === 'musl' || env === 'glibc' ? [env] : ['glibc', 'musl'];
  for (const libc of libcs) {
    for (const abi of [`abi${process.versions.modules}`, 'napi']) {
      try {
        return require(join(dir, `node.${abi}.${libc}.node`));
      } catch {
        // not this one (missing, or built for another libc)
      }
    }
  }
  return undefined;
}

module.exports = load();

/**
 * The first step of `npm test`: checks that the programs the tests start are installed, and stops with one line
 * naming the Debian packages to install when one is missing, instead of failing suites deep in the output.
 * `.ci/run` installs the same packages on a clean machine; keep the two lists together.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each program the tests run, where they look for it, the Debian package that provides it, and who needs it. */
const PREREQUISITES = [
  {
    program: 'redis-server',
    onPath: true,
    pkg: 'redis-server',
    usedBy: 'the integration suites of state, streams, gateway, simulator',
  },
  { program: 'kcat', onPath: true, pkg: 'kcat', usedBy: 'the broker’s librdkafka interop test' },
  // test/gateway/browser.test.ts launches this exact file.
  { program: '/usr/bin/chromium', onPath: false, pkg: 'chromium', usedBy: 'the carousel page test' },
  // test/support/postgres.ts runs initdb and postgres from Debian's versioned directory (PG_BIN_DIR overrides it).
  {
    program: 'postgres',
    postgresql: true,
    pkg: 'postgresql',
    usedBy: 'the PostgreSQL CDC source suites (test/cdc-postgres)',
  },
];

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian's postgresql package: /usr/lib/postgresql/<version>/bin/postgres, or PG_BIN_DIR/postgres. */
function postgresInstalled() {
  if (process.env.PG_BIN_DIR) return isExecutable(join(process.env.PG_BIN_DIR, 'postgres'));
  try {
    return readdirSync('/usr/lib/postgresql').some((v) =>
      isExecutable(join('/usr/lib/postgresql', v, 'bin', 'postgres')),
    );
  } catch {
    return false;
  }
}

function installed({ program, onPath, postgresql }) {
  if (postgresql) return postgresInstalled();
  if (!onPath) return isExecutable(program);
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && isExecutable(join(dir, program)));
}

const missing = PREREQUISITES.filter((p) => !installed(p));
if (missing.length > 0) {
  const what = missing.map((p) => `${p.program} (${p.usedBy})`).join(', ');
  process.stderr.write(
    `npm test: missing ${what}; install it (Debian): apt-get install ${missing.map((p) => p.pkg).join(' ')}\n`,
  );
  process.exit(1);
}

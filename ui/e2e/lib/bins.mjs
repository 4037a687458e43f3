// Where the binaries under test are: an environment variable, else the usual target dirs.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO = resolve(UI_DIR, '..');

function targetDirs() {
  const dirs = [process.env.CARGO_TARGET_DIR, join(REPO, 'target')].filter(Boolean);
  return dirs.flatMap((d) => [join(d, 'debug'), join(d, 'release')]);
}

/** The path of binary `name`: `$envVar` if set, else the first target dir that has it. */
export function findBin(name, envVar) {
  const given = process.env[envVar];
  if (given) {
    if (!existsSync(given)) throw new Error(`${envVar}=${given} does not exist`);
    return given;
  }
  for (const d of targetDirs()) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} not found: build it (see ui/e2e/README.md) or set ${envVar}`);
}

export const appBin = () => findBin('jangkau-app', 'JANGKAU_APP_BIN');
export const serverBin = () => findBin('jangkau-server', 'JANGKAU_SERVER_BIN');
export const cliBin = () => findBin('jangkau', 'JANGKAU_CLI_BIN');
export const seedBin = () => findBin('jangkau-seed', 'JANGKAU_SEED_BIN');

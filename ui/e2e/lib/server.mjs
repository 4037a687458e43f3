// A real district server on SQLite for the run: the Belu demo district, a second kader of
// Posyandu Mawar, one-time enrolment codes, served on a free port.
import { join } from 'node:path';
import { freePort, run, start, stop, waitFor } from './procs.mjs';
import { serverBin } from './bins.mjs';

export const DEMO_PASSWORD = 'belu-demo-2025';
export const SECOND_KADER = { username: 'kader.mawar2', name: 'Kader Dua Mawar (e2e)', password: 'kader-dua-2025' };

export async function startServer(dir, logDir) {
  const bin = serverBin();
  const port = await freePort();
  const env = {
    JANGKAU_DATABASE_URL: join(dir, 'server.db'),
    JANGKAU_LISTEN: `127.0.0.1:${port}`,
    JANGKAU_LOG: 'warn',
  };
  // Without the generated history (`make run` has it): the specs count what they record.
  const demo = await run(bin, ['demo', '--no-history'], { env });
  const m = /Enrolment code for kader\.mawar's tablet[^:]*:\s*(\S+)/.exec(demo);
  if (!m) throw new Error(`no enrolment code in the demo output:\n${demo}`);
  await run(bin, ['user', 'add', '--username', SECOND_KADER.username, '--name', SECOND_KADER.name, '--role', 'kader', '--scope', '53.04.05.2001.P01'], {
    env: { ...env, JANGKAU_NEW_SECRET: SECOND_KADER.password },
  });
  const code = async (username) => {
    const out = await run(bin, ['device', 'code', '--username', username], { env });
    const c = out.split('\n')[0].trim();
    if (!/^[A-Z0-9-]{6,}$/.test(c)) throw new Error(`unexpected code output: ${out}`);
    return c;
  };
  const child = start('server', bin, ['serve'], { env, logDir });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the district server', async () => (await fetch(`${url}/healthz`)).ok, 30_000);
  return { url, port, env, bin, kaderCode: m[1], code, stop: () => stop(child) };
}

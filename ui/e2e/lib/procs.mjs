// Processes the e2e run starts, and only those: each in its own process group, ended by
// its own id when the run is over.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const started = [];

/** Starts `cmd`; its output goes to `<logDir>/<name>.log`. */
export function start(name, cmd, args, { env = {}, cwd, logDir } = {}) {
  if (logDir) mkdirSync(logDir, { recursive: true });
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (logDir) {
    const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
  child.on('error', (e) => console.error(`[${name}] ${e.message}`));
  started.push({ name, child });
  return child;
}

/** Ends one process started here (its whole group) and waits for it. */
export async function stop(child, timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, timeoutMs);
  await gone;
  clearTimeout(timer);
}

/** Ends everything this run started, newest first. */
export async function stopAll() {
  while (started.length > 0) {
    const { child } = started.pop();
    await stop(child);
  }
}

/** Runs a command to completion; resolves with its output, rejects on a non-zero exit. */
export function run(cmd, args, { env = {}, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${err}${out}`));
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor(what, check, timeoutMs = 30_000, everyMs = 200) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** A virtual screen for the app windows, unless one is already given in DISPLAY. */
/** Starts a virtual screen of our own (its framebuffer readable as `<fbDir>/Xvfb_screen0`). */
export async function startXvfb(logDir, fbDir) {
  let n = 90;
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n += 1;
  const display = `:${n}`;
  mkdirSync(fbDir, { recursive: true });
  const args = [display, '-screen', '0', process.env.E2E_SCREEN ?? '1920x1440x24', '-nolisten', 'tcp', '-nocursor', '-fbdir', fbDir];
  start('xvfb', 'Xvfb', args, { logDir });
  await waitFor('Xvfb', () => existsSync(`/tmp/.X11-unix/X${n}`), 10_000);
  return { display, framebuffer: join(fbDir, 'Xvfb_screen0') };
}

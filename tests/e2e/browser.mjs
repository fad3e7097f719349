// Headless Chromium (Debian's, never a downloaded build) driven by playwright-core.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches Chromium as a server and connects to it, so the test holds its
 * process: `close()` is bounded (10 s, then the process is killed), and a
 * browser that hangs at close can never keep the test file running until
 * CTest's timeout hides which test hung.
 */
export async function launchBrowser(extraArgs = []) {
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    timeout: 60000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  const browser = await chromium.connect(server.wsEndpoint(), { timeout: 60000 });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), 10000); });
    const result = await Promise.race([close().then(() => server.close()), late]);
    clearTimeout(timer);
    if (result === 'late') {
      server.process().kill('SIGKILL');
      throw new Error('Chromium did not close within 10 s (killed)');
    }
  };
  return browser;
}

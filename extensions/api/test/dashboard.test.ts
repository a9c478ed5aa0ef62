import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEvent } from '@tapio/core';
import { testEvent } from '@tapio/core/testing';
import type { Browser, Page } from 'playwright-core';
import { paymentScenario, type ApiExtension } from '../src/index';
import { startApi, TOKEN } from './helpers';

const CHROMIUM = process.env.TAPIO_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('dashboard in headless Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;
  let page: Page;
  let ext: ApiExtension;
  let base: string;
  const s = paymentScenario();
  const external: string[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) this.skip(); // CI installs it via .ci/setup.d/api.sh
    ({ ext, base } = await startApi({ auth: { token: TOKEN }, grpc: null }));
    ext.ingest(s.events);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // Nothing may come from the internet: record any request that leaves the API's origin.
    page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
  });
  after(async () => {
    await browser?.close();
    await ext?.shutdown();
  });

  it('lists incidents live and opens the incident page with all four timeline lanes', async () => {
    await page.goto(`${base}/?token=${TOKEN}`);
    const row = page.locator(`tr[data-incident-id="${s.incidentId}"] a`);
    await row.waitFor();
    assert.match(await row.innerText(), /payment OOM-killed/);

    // A new incident shows up without a reload.
    const second = paymentScenario({ incidentId: 'inc-live-second' });
    ext.ingest(second.events);
    await page.locator('tr[data-incident-id="inc-live-second"]').waitFor({ timeout: 10_000 });

    await row.click();
    await page.locator('#timeline').waitFor();
    for (const layer of ['application', 'network', 'kubernetes', 'kernel']) {
      const n = await page.locator(`.lane[data-layer="${layer}"] .tl-event`).count();
      const expected = s.incident.chain.filter((l) => l.layer === layer).length;
      assert.equal(n, expected, `${layer} lane shows its ${expected} chain events`);
      assert.ok(n > 0, `${layer} lane is not empty`);
    }
    assert.match(await page.locator('#root-cause').innerText(), /Memory leak in payment v2\.1\.0/);
    assert.match(await page.locator('#confidence').innerText(), /87%/);
    assert.match(await page.locator('#impact').innerText(), /\$45K revenue at risk/);
    assert.match(await page.locator('#recommendations').innerText(), /dry run: would scale deployment prod\/payment to 5 replicas/);

    const shot = path.join(os.tmpdir(), `tapio-incident-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`      screenshot: ${shot}`);
    assert.ok(fs.statSync(shot).size > 10_000, 'screenshot written');

    // The page follows the incident: when the correlation processor re-emits it resolved, it says so.
    const resolved = { ...s.incident, status: 'resolved' as const, endTimeUnixNano: String(Date.now() * 1e6) };
    ext.ingest([createEvent({ kind: 'correlation', source: 'correlation', incident: resolved as unknown as Record<string, unknown> })]);
    await page.locator('h1 .badge.resolved').waitFor({ timeout: 10_000 });

    // Each timeline event links to its raw data.
    await page.locator('.lane[data-layer="kernel"] .tl-event').first().click();
    await page.locator('#raw:not([hidden])').waitFor();
    await page.waitForFunction(`(document.getElementById('raw-body').textContent || '').includes('"kind": "kernel"')`);
    const raw = JSON.parse(await page.locator('#raw-body').innerText());
    assert.equal(raw.kind, 'kernel');
    assert.ok(s.incident.chain.some((l) => l.eventId === raw.id));
  });

  it('streams live events with a filter and explains a bad filter', async () => {
    await page.goto(`${base}/events?filter=${encodeURIComponent('kind=network')}`);
    await page.locator('#event-rows').waitFor({ state: 'attached' });
    await page.waitForFunction(`document.getElementById('conn').classList.contains('live')`);
    const before = await page.locator('#event-rows tr').count();
    const fresh = testEvent('network', { network: { event: 'connection_reset', dstAddr: '10.9.9.9', dstPort: 443 } });
    ext.ingest([testEvent('log'), fresh]);
    await page.locator('#event-rows tr.new').first().waitFor();
    assert.equal(await page.locator('#event-rows tr').count(), before + 1, 'only the network event arrived');
    assert.match(await page.locator('#event-rows tr.new').first().innerText(), /connection_reset/);

    await page.fill('#filter', 'colour=red');
    await page.click('form.filters button');
    await page.locator('[role=alert]').waitFor();
    assert.match(await page.locator('[role=alert]').innerText(), /unknown filter key 'colour'/);
  });

  it('draws the service map from the call graph with unhealthy services marked', async () => {
    await page.goto(`${base}/map`);
    await page.locator('#service-map').waitFor();
    assert.equal(await page.locator('g.node[data-service="payment"]').getAttribute('class'), 'node unhealthy');
    assert.equal(await page.locator('g.node[data-service="frontend"]').getAttribute('class'), 'node');
    assert.ok(await page.locator('path.edge').count() >= 2);
    assert.deepEqual(external, [], 'the dashboard loads nothing from outside');
  });
});

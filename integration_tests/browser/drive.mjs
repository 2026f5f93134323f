// Drives the built app in headless Chromium as a supervisor would, and checks both what the page
// shows and what the API answered. integration_tests/test_browser.py runs it after starting the
// API, seeding it and serving the app; by hand:
//   APP_URL=http://... API_URL=http://... SEED_FILE=seed.json SCREENSHOTS=dir node drive.mjs
// SEED_FILE is {"username", "password", "rows": [the numbers as the API answered their POST]},
// and the API must hold exactly those rows. A screenshot is taken after each step; the script
// stops at the first failed step, printing why and the API's last answers, and exits 1.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chromium } from "playwright-core";

const setting = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (see the top of drive.mjs)`);
  return value;
};
const APP_URL = setting("APP_URL").replace(/\/+$/, "");
const API_URL = setting("API_URL").replace(/\/+$/, "");
const SCREENSHOTS = resolve(setting("SCREENSHOTS"));
const seed = JSON.parse(readFileSync(setting("SEED_FILE"), "utf8"));
const WAIT_MS = 15_000;
const TOKEN_KEY = "numbers-admin.token"; // where src/httpClient.js keeps the token
const PAGE = 10; // the list's first page size

// --- what the API holds: the seed, changed as the steps change it --------------------------------

const rows = new Map(seed.rows.map((row) => [row.id, row]));
const byId = (a, b) => a.id - b.id;
const all = () => [...rows.values()].sort(byId);
const compare = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
const cents = (price) => BigInt(price.replace(".", "")); // the API writes two decimal places
const byMonthlyPrice = (a, b) => compare(cents(a.monthyPrice), cents(b.monthyPrice)) || byId(a, b);
const digits = (text) => text.replace(/[^0-9]/g, "");
/** Issue 9's q: the text's digits within the number's, or the text in a currency or a price. */
const matchesQ = (row, text) =>
  (digits(text) !== "" && digits(row.value).includes(digits(text))) ||
  [row.currency, row.monthyPrice, row.setupPrice].some((field) =>
    field.toLowerCase().includes(text.toLowerCase()),
  );
const shape = ({ id, value, monthyPrice, setupPrice, currency }) => ({
  id,
  value,
  monthyPrice,
  setupPrice,
  currency,
});

// --- the browser, and every answer of the API to it -----------------------------------------------

mkdirSync(SCREENSHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true });
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
page.setDefaultTimeout(WAIT_MS);

let stepNumber = 0;
/** {method, url, status, statusText, headers, body, step, authorization}, in order. */
const exchanges = [];
const reading = []; // the bodies being read
const checked = new Set(); // error answers that a step provoked on purpose and checked
page.on("response", (response) => {
  const request = response.request();
  if (!response.url().startsWith(API_URL) || request.method() === "OPTIONS") return;
  const exchange = {
    method: request.method(),
    url: response.url(),
    status: response.status(),
    statusText: response.statusText(),
    headers: response.headers(),
    body: undefined,
    step: stepNumber,
    authorization: request.headers().authorization ?? null,
  };
  exchanges.push(exchange);
  reading.push(response.text().then((text) => (exchange.body = text), () => (exchange.body = null)));
});
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(error));
const consoleErrors = [];
page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));

const settled = () => Promise.all(reading);
const json = (exchange) => JSON.parse(exchange.body);
const query = (exchange) => new URL(exchange.url).searchParams;
const path = (exchange) => new URL(exchange.url).pathname;
const describe = (e) => {
  const body = String(e.body ?? "").replace(/"access_token":"[^"]*"/, '"access_token":"(hidden)"');
  return `(step ${e.step}) ${e.method} ${e.url} -> ${e.status} ${e.statusText}\n      ${body.slice(0, 300)}`;
};
const isList = (e) => e.method === "GET" && path(e) === "/numbers" && !query(e).has("id");
const isGetMany = (e) => e.method === "GET" && path(e) === "/numbers" && query(e).has("id");

/** Retry ``check`` until it passes or WAIT_MS is over, then throw its last error. */
const eventually = async (check) => {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
};

/** Run ``action``; return the API's answer to the first request after it that ``matches``. */
const answerTo = async (matches, action) => {
  const from = exchanges.length;
  await action();
  return eventually(async () => {
    await settled();
    const found = exchanges.slice(from).find(matches);
    assert.ok(found, `no such request yet; since: ${exchanges.slice(from).map(describe)}`);
    return found;
  });
};

// --- what the page shows, and what a user does -----------------------------------------------------

const shownRows = () =>
  page.$$eval(".list-page tbody tr, .pinned-numbers tbody tr", (trs) =>
    trs.map((tr) => {
      const cell = (source) => tr.querySelector(`td.column-${source}`)?.innerText.trim();
      const [value, monthyPrice, setupPrice] = ["value", "monthyPrice", "setupPrice"].map(cell);
      return { id: Number(cell("id")), value, monthyPrice, setupPrice, currency: cell("currency") };
    }),
  );

/** Wait until the table shows exactly ``expected``, in order, and the pagination agrees. */
const expectTable = (expected, { from = 1, total = expected.length } = {}) =>
  eventually(async () => {
    assert.deepEqual(await shownRows(), expected.map(shape));
    const shown = await page.locator(".MuiTablePagination-displayedRows").innerText();
    const to = from + expected.length - 1;
    assert.equal(shown.replace(/\s/g, "").replace("–", "-"), `${from}-${to}of${total}`);
  });

const notifications = () => page.locator(".MuiSnackbarContent-message").allInnerTexts();
const errorNotifications = () => page.locator(".RaNotification-error").allInnerTexts();
const expectNotification = (text) =>
  eventually(async () => {
    const shown = await notifications();
    assert.ok(shown.some((it) => it.includes(text)), `no ${JSON.stringify(text)} in ${shown}`);
  });
const dismissNotifications = async () => {
  await page.keyboard.press("Escape"); // MUI's snackbar closes on Escape
  await eventually(async () => assert.deepEqual(await notifications(), []));
};

const openList = async () => {
  await page.getByRole("menuitem", { name: "Numbers" }).click();
  await page.locator(".list-page").waitFor();
};
const search = (text) =>
  answerTo(
    (e) => isList(e) && (query(e).get("q") ?? "") === text,
    () => page.locator('input[name="q"]').fill(text),
  );
/** Choose ``text`` in a currency select (the list's filter by default); null: the empty choice. */
const chooseCurrency = async (text, within = page.locator(".list-page")) => {
  await within.getByRole("combobox", { name: "Currency" }).click();
  const options = page.getByRole("option");
  const option = text === null ? options.and(page.locator('[data-value=""]')) : options.getByText(text, { exact: true });
  await option.click();
};
const sortBy = (header) => page.locator("thead").getByText(header, { exact: true }).click();
const selectRows = async (positions) => {
  for (const position of positions) {
    const row = page.locator(".list-page tbody tr").nth(position);
    await row.locator('input[type="checkbox"]').check();
  }
};
const fillForm = async (fields) => {
  for (const [source, text] of Object.entries(fields)) {
    if (source === "currency") await chooseCurrency(text, page);
    else await page.locator(`input[name="${source}"]`).fill(text);
  }
};
const save = () => page.getByRole("button", { name: "Save" }).click();
const storedToken = () => page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);

// --- the steps --------------------------------------------------------------------------------------

let label = "";
const screenshot = (suffix = "") =>
  page.screenshot({ path: `${SCREENSHOTS}/${label}${suffix}.png`, fullPage: true, animations: "disabled" });

const step = async (name, run) => {
  stepNumber += 1;
  label = `${String(stepNumber).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`;
  const started = Date.now();
  try {
    await run();
    await settled();
    assert.deepEqual(pageErrors, [], "the page threw");
    await screenshot();
    console.log(`ok     ${label} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  } catch (error) {
    await screenshot("-FAILED").catch(() => {});
    await settled();
    console.log(`FAILED ${label}: ${error.stack ?? error}`);
    console.log("  the API's last answers:");
    for (const exchange of exchanges.slice(-12)) console.log(`    ${describe(exchange)}`);
    if (consoleErrors.length) console.log(`  console errors:\n    ${consoleErrors.slice(-5).join("\n    ")}`);
    console.log(`screenshots: ${SCREENSHOTS}`);
    await browser.close();
    process.exit(1);
  }
};

await step("log in", async () => {
  await page.goto(`${APP_URL}/`);
  await page.locator('input[name="username"]').fill(seed.username);
  await page.locator('input[name="password"]').fill(seed.password);
  const login = await answerTo(
    (e) => e.method === "POST" && path(e) === "/auth/token",
    () => page.getByRole("button", { name: "Sign in" }).click(),
  );
  assert.equal(login.status, 200, describe(login));
  await page.getByText("Pinned numbers").waitFor();
  assert.equal(await storedToken(), json(login).access_token);
});

await step("list shows 10 rows and the total", async () => {
  assert.ok(rows.size > 25, "the seed must fill more than one page of 25");
  const answer = await answerTo(isList, openList);
  assert.equal(answer.status, 200, describe(answer));
  assert.equal(answer.headers["x-total-count"], String(seed.rows.length), describe(answer));
  await expectTable(all().slice(0, PAGE), { total: seed.rows.length });
});

await step("last page shows the last rows", async () => {
  const lastPage = Math.ceil(rows.size / PAGE);
  const first = (lastPage - 1) * PAGE;
  const answer = await answerTo(
    (e) => isList(e) && query(e).get("_start") === String(first),
    () => page.getByRole("button", { name: `Go to page ${lastPage}` }).click(),
  );
  assert.equal(query(answer).get("_end"), String(lastPage * PAGE));
  await expectTable(all().slice(first), { from: first + 1, total: rows.size });
});

await step("25 rows a page", async () => {
  await page.getByRole("combobox", { name: /rows per page/i }).click();
  await page.getByRole("option", { name: "25" }).click();
  await expectTable(all().slice(0, 25), { total: rows.size });
});

await step("sort by monthly price ascending", async () => {
  const answer = await answerTo(
    (e) => isList(e) && query(e).get("_sort") === "monthyPrice",
    () => sortBy("Monthly price"),
  );
  assert.equal(query(answer).get("_order"), "ASC");
  await expectTable(all().sort(byMonthlyPrice).slice(0, 25), { total: rows.size });
});

await step("sort by monthly price descending", async () => {
  const answer = await answerTo(
    (e) => isList(e) && query(e).get("_order") === "DESC",
    () => sortBy("Monthly price"),
  );
  assert.equal(query(answer).get("_sort"), "monthyPrice");
  const descending = all().sort((a, b) => byMonthlyPrice(b, a));
  await expectTable(descending.slice(0, 25), { total: rows.size });
  await sortBy("Id"); // back to the default order for the steps that follow
  await expectTable(all().slice(0, 25), { total: rows.size });
});

/** Search the list for ``text``; expect the rows of the seed that q should match. */
const expectSearch = async (text) => {
  const expected = all().filter((row) => matchesQ(row, text));
  assert.ok(expected.length > 1 && expected.length < 25, `the seed must give a few rows for ${text}`);
  const answer = await search(text);
  assert.equal(answer.status, 200, describe(answer));
  await expectTable(expected);
  await screenshot("-found");
  await search("");
  await expectTable(all().slice(0, 25), { total: rows.size });
};

await step("search digits", () => expectSearch("+55 84"));

await step("search letters", () => expectSearch("eur"));

await step("filter by currency", async () => {
  const expected = all().filter((row) => row.currency === "BRL");
  assert.ok(expected.length > 1, "the seed must have several BRL numbers");
  const answer = await answerTo(
    (e) => isList(e) && query(e).get("currency") === "BRL",
    () => chooseCurrency("BRL"),
  );
  assert.equal(answer.status, 200, describe(answer));
  await expectTable(expected);
});

await step("edit a number", async () => {
  const target = all().filter((row) => row.currency === "BRL")[1];
  await page.locator(".list-page tbody tr").nth(1).click(); // the BRL filter is still on
  const value = page.locator('input[name="value"]');
  await eventually(async () => assert.equal(await value.inputValue(), target.value));
  await fillForm({ monthyPrice: "12.34" });
  const answer = await answerTo((e) => e.method === "PUT" && path(e) === `/numbers/${target.id}`, save);
  assert.equal(answer.status, 200, describe(answer));
  assert.equal(json(answer).monthyPrice, "12.34", describe(answer));
  rows.set(target.id, { ...target, monthyPrice: "12.34" });
  await expectNotification("Element updated");
  await expectTable(all().filter((row) => row.currency === "BRL"));
  await dismissNotifications();
  await chooseCurrency(null);
  await expectTable(all().slice(0, 25), { total: rows.size });
});

const created = { value: "+55 21 98765-4321", monthyPrice: "1.50", setupPrice: "10.00", currency: "USD" };

await step("create a number", async () => {
  await page.getByRole("link", { name: "Create" }).click();
  await fillForm(created);
  const answer = await answerTo((e) => e.method === "POST" && path(e) === "/numbers", save);
  assert.equal(answer.status, 201, describe(answer));
  const body = json(answer);
  assert.deepEqual(shape(body), { id: body.id, ...created });
  rows.set(body.id, body);
  await expectNotification("Element created");
  await expectTable(all().slice(0, 25), { total: rows.size });
  await dismissNotifications();
  await search(digits(created.value));
  await expectTable([body]);
  await search("");
});

/** Save the create form with ``fields``: expect ``status`` and its problem shown as an error. */
const expectRefusal = async (fields, status) => {
  await fillForm(fields);
  const answer = await answerTo((e) => e.method === "POST" && path(e) === "/numbers", save);
  checked.add(answer);
  assert.equal(answer.status, status, describe(answer));
  assert.match(answer.headers["content-type"], /^application\/problem\+json/, describe(answer));
  const problem = json(answer);
  const expected = [problem.detail, ...(problem.errors ?? []).slice(0, 1).map((e) => e.detail)];
  await eventually(async () => {
    const shown = (await errorNotifications()).join("\n");
    for (const text of expected) assert.ok(shown.includes(text), `${JSON.stringify(text)} not in ${shown}`);
  });
  assert.equal(new URL(page.url()).hash, "#/numbers/create", "a refused create stays on its form");
  await screenshot("-message");
  await dismissNotifications();
};

await step("a duplicate number shows the API's 409", async () => {
  await page.getByRole("link", { name: "Create" }).click();
  // The same digits in another format: to the API, the same number.
  await expectRefusal({ ...created, value: "+55 (21) 98765 4321" }, 409);
});

await step("a negative price shows the API's 422", async () => {
  await expectRefusal({ value: "+55 21 98765-0000", monthyPrice: "-1.00" }, 422);
  await openList();
  await expectTable(all().slice(0, 25), { total: rows.size }); // neither was created
});

await step("pinned numbers come from one getMany", async () => {
  const pinned = [1, 4, 8].map((position) => all()[position]);
  await selectRows([1, 4, 8]);
  await page.getByRole("button", { name: "Pin" }).click();
  await expectNotification("3 numbers pinned");
  await dismissNotifications();
  const answer = await answerTo(isGetMany, () =>
    page.getByRole("menuitem", { name: "Dashboard" }).click(),
  );
  const ids = pinned.map((row) => String(row.id));
  assert.deepEqual(query(answer).getAll("id").sort(), ids.sort(), describe(answer));
  assert.deepEqual([...new Set(query(answer).keys())], ["id"], describe(answer));
  assert.equal(answer.status, 200, describe(answer));
  assert.deepEqual(json(answer).map(shape).sort(byId), pinned.map(shape), describe(answer));
  await eventually(async () => assert.deepEqual(await shownRows(), pinned.map(shape)));
});

await step("bulk delete of 3 rows, with no error", async () => {
  await openList();
  const shown = all().slice(0, 25);
  await expectTable(shown, { total: rows.size });
  const doomed = [0, 2, 3].map((position) => shown[position]);
  await selectRows([0, 2, 3]);
  await page.getByRole("button", { name: "Delete" }).click();
  await screenshot("-confirm");
  const from = exchanges.length;
  await page.getByRole("button", { name: "Confirm" }).click();
  await expectNotification("3 elements deleted");
  await settled();
  const deletes = exchanges.slice(from).filter((e) => e.method === "DELETE");
  const urls = doomed.map((row) => `${API_URL}/numbers/${row.id}`);
  assert.deepEqual(deletes.map((e) => e.url).sort(), urls.sort());
  for (const answer of deletes) {
    assert.equal(answer.status, 200, describe(answer));
    assert.equal(`${API_URL}/numbers/${json(answer).id}`, answer.url, describe(answer));
  }
  assert.deepEqual(await errorNotifications(), []);
  for (const row of doomed) rows.delete(row.id);
  // react-admin takes the rows out of the page it shows; its refresh button asks the API again.
  const remaining = shown.filter((row) => rows.has(row.id));
  await eventually(async () => assert.deepEqual(await shownRows(), remaining.map(shape)));
  await dismissNotifications();
  await answerTo(isList, () => page.getByRole("button", { name: "Refresh" }).click());
  await expectTable(all().slice(0, 25), { total: rows.size });
  assert.deepEqual(await errorNotifications(), []);
});

await step("log out", async () => {
  await page.getByRole("button", { name: "Profile" }).click();
  await page.getByRole("menuitem", { name: "Logout" }).click();
  await page.locator('input[name="username"]').waitFor();
  assert.equal(await storedToken(), null);
});

const BAD_TOKEN = "not-a-token";

await step("a token the API refuses logs out", async () => {
  await page.evaluate(([key, token]) => localStorage.setItem(key, token), [TOKEN_KEY, BAD_TOKEN]);
  const answer = await answerTo(isList, () => page.goto(`${APP_URL}/#/numbers`));
  checked.add(answer);
  assert.equal(answer.status, 401, describe(answer));
  await page.locator('input[name="username"]').waitFor();
  assert.equal(await storedToken(), null);
});

await step("every other API answer was a success, with its reason phrase", async () => {
  // 401 is the right answer without a valid token: react-admin sends a few such requests while
  // it logs out, and after the refused token before it shows the login page.
  const unauthenticated = (e) => e.status === 401 && [null, `Bearer ${BAD_TOKEN}`].includes(e.authorization);
  const unexpected = exchanges.filter((e) => e.status >= 400 && !checked.has(e) && !unauthenticated(e));
  assert.deepEqual(unexpected.map(describe), []);
  // Browser clients show statusText when they cannot read a body ("HTTP/1.1 409 Conflict").
  const silent = exchanges.filter((e) => e.statusText === "");
  const examples = silent.slice(0, 3).map(describe).join("\n");
  assert.equal(silent.length, 0, `${silent.length} of ${exchanges.length} answers have no reason phrase:\n${examples}`);
});

await browser.close();
console.log(`screenshots: ${SCREENSHOTS}`);

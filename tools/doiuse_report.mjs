// doiuse-email (caniemail data) over HTML files, for tests/render/test_doiuse.py.
// Usage: node tools/doiuse_report.mjs FILE...
// Prints one JSON object: {file: {family: {feature: [client, ...]}}} for the client families
// the newsletter targets (Gmail, Outlook, Yahoo, Apple Mail); a feature is a caniemail title
// such as "`@media`" or "`opacity`". Unparsed messages go under family "?".
import { doIUseEmail } from 'doiuse-email';
import fs from 'node:fs';

const CLIENTS = ['gmail.*', 'outlook.*', 'yahoo.*', 'apple-mail.*'];
const MESSAGE = /^`(.+)` is not supported by `([^.`]+)\.([^`]+)`/;
const report = {};
for (const file of process.argv.slice(2)) {
  const families = (report[file] = {});
  const result = doIUseEmail(fs.readFileSync(file, 'utf8'), { emailClients: CLIENTS });
  for (const error of result.errors ?? []) {
    const m = error.match(MESSAGE);
    const [feature, family, client] = m ? [m[1], m[2], m[3]] : [error, '?', '?'];
    const clients = ((families[family] ??= {})[feature] ??= []);
    if (!clients.includes(client)) clients.push(client);
  }
}
process.stdout.write(JSON.stringify(report));

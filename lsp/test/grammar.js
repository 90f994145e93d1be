// Checks the TextMate grammar against every policy in examples/ and policies/: each
// non-blank token must get a scope beyond the file's root scope, and none may be `invalid`.
// Run with `npm run test:grammar` (scripts/test runs it). Exits 1 with the offending tokens.

"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..", "..");
const grammarPath = path.join(__dirname, "..", "syntaxes", "route.tmLanguage.json");

function policyFiles() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".route")) found.push(p);
    }
  };
  walk(path.join(root, "examples"));
  walk(path.join(root, "policies"));
  return found.sort();
}

async function main() {
  const wasm = fs.readFileSync(
    path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"),
  );
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.route"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  const grammar = await registry.loadGrammar("source.route");
  if (!grammar) throw new Error("the grammar did not load");

  const files = policyFiles();
  if (files.length === 0) throw new Error("no policies found to check the grammar against");
  const problems = [];
  let tokens = 0;
  for (const file of files) {
    const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
    let state = vsctm.INITIAL;
    lines.forEach((line, i) => {
      const result = grammar.tokenizeLine(line, state);
      for (const t of result.tokens) {
        const text = line.slice(t.startIndex, t.endIndex);
        if (text.trim() === "") continue;
        tokens += 1;
        const where = `${path.relative(root, file)}:${i + 1}:${t.startIndex + 1}`;
        if (t.scopes.length < 2) {
          problems.push(`${where}: \`${text}\` is not classified`);
        } else if (t.scopes.some((s) => s.startsWith("invalid"))) {
          problems.push(`${where}: \`${text}\` is ${t.scopes.join(" ")}`);
        }
      }
      state = result.ruleStack;
    });
  }
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    console.error(`grammar check: ${problems.length} problems in ${files.length} files`);
    process.exit(1);
  }
  console.log(`grammar check: ${tokens} tokens in ${files.length} files, all classified`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Tokenize .isf files with the TextMate grammar the way VS Code does (vscode-textmate + vscode-oniguruma)
// and print, as JSON, every token whose scopes include an `invalid` scope: {file, line, column, text, scopes}.
// Usage: node tokenize.js GRAMMAR.json FILE...
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, ...files] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const grammar = await registry.loadGrammar("source.isf");
  const problems = [];
  let tokens = 0;
  for (const file of files) {
    let stack = vsctm.INITIAL;
    fs.readFileSync(file, "utf8").split(/\r?\n/).forEach((line, n) => {
      const result = grammar.tokenizeLine(line, stack);
      for (const t of result.tokens) {
        tokens += 1;
        if (t.scopes.some((s) => s.startsWith("invalid"))) {
          problems.push({ file, line: n + 1, column: t.startIndex + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
        }
      }
      stack = result.ruleStack;
    });
  }
  process.stdout.write(JSON.stringify({ files: files.length, tokens, problems }));
}

main().catch((e) => { console.error(e); process.exit(2); });

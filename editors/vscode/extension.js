// VS Code client for the isfdsl language server: starts `isf lsp` (or the command configured in
// `isf.server.command`) over stdio for every .isf file of the workspace.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("isf").get("server.command") || ["isf", "lsp"];
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("isf", "ISF rules", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "isf" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{isf,tsv}") },
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

// The VS Code client for `routerc lsp`. It only starts the server and forwards its settings;
// every feature (diagnostics, hover, completion, navigation, rename, formatting, quick fixes,
// folding) comes from the server, so Neovim, Helix and VS Code behave the same.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const command = vscode.workspace
    .getConfiguration("routerc")
    .get<string>("server.path", "routerc");
  // No `transport` field: with one, the client appends `--stdio`; stdio is the default.
  return { command, args: ["lsp"] };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const yaml = vscode.workspace
    .getConfiguration("routerc")
    .get<boolean>("yaml.enable", true);
  // YAML files on disk only: the server tells a policy from other YAML by its top-level keys,
  // and an untitled buffer has no extension to say it is YAML at all.
  const documentSelector = [
    { scheme: "file", language: "route" },
    { scheme: "untitled", language: "route" },
    ...(yaml ? [{ scheme: "file", language: "yaml" }] : []),
  ];
  const clientOptions: LanguageClientOptions = {
    documentSelector,
    // Included policies that change on disk (a checkout) are re-read by the server.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher(
        yaml ? "**/*.{route,yaml,yml}" : "**/*.route",
      ),
    },
  };
  client = new LanguageClient(
    "routerc",
    "routerc language server",
    serverOptions(),
    clientOptions,
  );
  try {
    await client.start();
  } catch (err) {
    const path = vscode.workspace
      .getConfiguration("routerc")
      .get<string>("server.path", "routerc");
    void vscode.window.showErrorMessage(
      `routerc: cannot start \`${path} lsp\` (${String(err)}). ` +
        "Install routerc or set `routerc.server.path`.",
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("routerc.restartServer", async () => {
      await client?.stop();
      await start(context);
    }),
    // A new server path, or YAML switched on or off, takes effect without reloading the window.
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (
        e.affectsConfiguration("routerc.server.path") ||
        e.affectsConfiguration("routerc.yaml.enable")
      ) {
        await client?.stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

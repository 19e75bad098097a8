#!/usr/bin/env node
// Runs the keyrelay binary of this platform's package (an optional
// dependency npm installs only where it fits), passing the arguments,
// standard streams, exit status and signals through.

"use strict";

const { spawn } = require("node:child_process");
const { existsSync } = require("node:fs");
const { constants } = require("node:os");
const path = require("node:path");

// `${process.platform}-${process.arch}` → the package holding that binary.
const PACKAGES = {
  "linux-x64": "@keyrelay/linux-x64",
  "linux-arm64": "@keyrelay/linux-arm64",
  "darwin-x64": "@keyrelay/darwin-x64",
  "darwin-arm64": "@keyrelay/darwin-arm64",
  "win32-x64": "@keyrelay/win32-x64",
};

function binaryPath() {
  const platform = `${process.platform}-${process.arch}`;
  const name = PACKAGES[platform];
  if (!name) {
    fail(
      `keyrelay has no binary for ${platform} (there are: ${Object.keys(PACKAGES).join(", ")});\n` +
        "build it from source with cargo, as keyrelay's README says.",
    );
  }
  const exe = process.platform === "win32" ? "keyrelay.exe" : "keyrelay";
  let root;
  try {
    root = path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    fail(
      `the package ${name}, which holds keyrelay's binary for ${platform}, is not installed.\n` +
        "npm skips optional dependencies with --omit=optional or --no-optional; reinstall without it:\n" +
        "  npm install -g keyrelay",
    );
  }
  const binary = path.join(root, "bin", exe);
  if (!existsSync(binary)) {
    fail(`${name} is installed but ${binary} is missing; reinstall: npm install -g keyrelay`);
  }
  return binary;
}

function fail(message) {
  process.stderr.write(`keyrelay: ${message}\n`);
  process.exit(1);
}

const binary = binaryPath();
const args = process.argv.slice(2);

// Where Node can, it becomes the binary (same process id): signals and the
// exit status need no relaying. Windows has no execve.
if (process.platform !== "win32" && typeof process.execve === "function") {
  // Node ignores SIGXFSZ, and an ignored signal stays ignored across
  // execve; a handler is reset to the default instead.
  process.on("SIGXFSZ", () => {});
  process.execve(binary, [binary, ...args], process.env);
}

const child = spawn(binary, args, { stdio: "inherit" });
child.on("error", (error) => fail(`cannot run ${binary}: ${error.message}`));

// Signals sent to this process (a supervisor's SIGTERM) are passed on. A
// terminal's Ctrl-C reaches the child twice, which keyrelay takes as one.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}

child.on("exit", (code, signal) => {
  if (signal) {
    // End the same way, so a shell sees 128 + the signal.
    process.removeAllListeners(signal);
    process.exitCode = 128 + (constants.signals[signal] || 0);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
